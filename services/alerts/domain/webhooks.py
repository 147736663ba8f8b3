"""Webhooks to organisations' own systems: which targets are acceptable, and how a delivery
is signed so that the receiver can check it came from Relais, unchanged and recently.

Signature: ``X-Relais-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC keyed with
the subscription's secret over ``<t>.`` followed by the exact body bytes. A receiver recomputes
it with its secret, compares in constant time and refuses a ``t`` more than a few minutes away
from its own clock (a replayed delivery). ``X-Relais-Event-Id`` lets it drop a redelivery.

Targets: ``https`` (``http`` only when the operator allows it), no credentials in the URL, and
no address that points back inside — loopback, private, link-local, shared or reserved ranges,
multicast — unless the operator allows private targets. The name is resolved again before every
delivery and the connection goes to the address that was checked, so a name that changes its
answer afterwards cannot send a delivery inside.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-Relais-Signature"
EVENT_ID_HEADER = "X-Relais-Event-Id"
EVENT_TYPE_HEADER = "X-Relais-Event-Type"
TOLERANCE_SECONDS = 300
MAX_URL_LENGTH = 500


class TargetRefused(ValueError):
    """A webhook target Relais will not call; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent

    @property
    def literal_address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_target(url: str, *, require_https: bool) -> Target:
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"A URL of at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("Not a URL.") from None
    allowed = ("https",) if require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise TargetRefused("Only https URLs." if require_https else "Only http or https URLs.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("No user name or password in the URL: the signature authenticates.")
    if not parts.hostname:
        raise TargetRefused("The URL names no host.")
    if parts.fragment:
        raise TargetRefused("No fragment (#...) in the URL.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80),
                  path)


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Why a delivery may not go to ``address``, or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return "a multicast or unspecified address"
    if allow_private:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if not ip.is_global:
        return "a private or reserved address"
    return None


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: bytes, header: str | None, body: bytes, *, now: int,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does with the signature header (also used by Relais's own tests)."""
    if not header:
        return False
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
