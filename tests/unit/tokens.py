"""Access tokens for unit tests: well-formed ones through joserfc, odd ones signed by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import jwk, jwt

AUDIENCE = "urn:relais:record"
HEADER = {"alg": "ES256", "kid": "k1", "typ": "at+jwt"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def ec_key(kid: str = "k1") -> jwk.ECKey:
    return jwk.ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"})


def claims_for(issuer: str, *, now: float | None = None, **overrides: Any) -> dict[str, Any]:
    now = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": [AUDIENCE, "urn:relais:consent"],
        "sub": "user-1",
        "jti": str(uuid.uuid4()),
        "client_id": "web",
        "exp": now + 300,
        "iat": now,
        "scope": "record:read record:write",
        "org": "org-1",
        "profession": "nurse",
        "role": "professional",
    }
    claims.update(overrides)
    return claims


def sign(claims: dict[str, Any], key: jwk.ECKey, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(dict(header or HEADER), claims, key)


def sign_es256_raw(header: Any, claims: Any, key: jwk.ECKey) -> str:
    """ES256 over any header and payload, even ones joserfc would refuse to produce."""
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    der = key.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def sign_hs256_raw(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def unsigned(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    return f"{b64url_json(header or {'alg': 'none', 'typ': 'at+jwt'})}.{b64url_json(claims)}."
