"""Sending one webhook delivery: resolve the target, refuse any address the operator has not
allowed, connect to the address that was checked (TLS still verifies the host name), POST once,
follow no redirect."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from services.alerts.domain.webhooks import Target, TargetRefused, address_refusal, parse_target

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def checked_addresses(target: Target, *, allow_private: bool, resolver: Resolver = resolve) -> list[str]:
    """Every address the target's name resolves to, or TargetRefused when one is not allowed
    (one bad answer is enough: the name cannot be trusted)."""
    literal = target.literal_address
    try:
        addresses = [str(literal)] if literal is not None else resolver(target.host, target.port)
    except OSError:
        raise TargetRefused("The host name does not resolve.") from None
    if not addresses:
        raise TargetRefused("The host name does not resolve.")
    for address in addresses:
        why = address_refusal(address, allow_private=allow_private)
        if why is not None:
            raise TargetRefused(f"The host resolves to {why}, which is not allowed.")
    return addresses


def check_url(url: str, *, allow_private: bool, require_https: bool,
              resolver: Resolver = resolve) -> Target:
    target = parse_target(url, require_https=require_https)
    checked_addresses(target, allow_private=allow_private, resolver=resolver)
    return target


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the HTTP status, or None when no answer came
    error: str | None  # a short code when it failed

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool,
         require_https: bool, timeout: float, resolver: Resolver = resolve) -> Outcome:
    try:
        target = parse_target(url, require_https=require_https)
        address = checked_addresses(target, allow_private=allow_private, resolver=resolver)[0]
    except TargetRefused:
        return Outcome(None, "target_refused")
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, address, timeout)
    try:
        connection.request("POST", target.path, body=body,
                           headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        response.read(65536)
        status = response.status
    except ssl.SSLError:
        return Outcome(None, "tls_error")
    except TimeoutError:
        return Outcome(None, "timeout")
    except (OSError, http.client.HTTPException):
        return Outcome(None, "connection_error")
    finally:
        connection.close()
    if 300 <= status < 400:
        return Outcome(status, "redirect_not_followed")
    if status >= 300:
        return Outcome(status, f"http_{status}")
    return Outcome(status, None)
