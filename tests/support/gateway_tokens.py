"""Tokens made by hand, good and bad, to attack the gateway's verifier with."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from shared.auth import audience_of
from shared.config import SERVICES


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(issuer: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": issuer,
        "aud": [audience_of(s) for s in SERVICES if s != "gateway"],
        "sub": "rc_forged",
        "client_id": "rc_forged",
        "scope": "record:read record:write",
        "role": "system",
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_hex(8),
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def signed(key: ECKey, payload: dict[str, Any], **header: Any) -> str:
    return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid, **header}, payload, key)


def unsigned(payload: dict[str, Any]) -> str:
    """`alg: none`: a token with no signature at all."""
    header = b64(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
    return f"{header}.{b64(json.dumps(payload).encode())}."


def hmac_with_public_key(public_pem: bytes, payload: dict[str, Any], kid: str | None) -> str:
    """The classic confusion: HS256 keyed with the verifier's public key."""
    header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def tampered(token: str) -> str:
    """The same signature over a payload that now claims more."""
    header, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["scope"] = payload.get("scope", "") + " admin audit:read"
    return f"{header}.{b64(json.dumps(payload).encode())}.{signature}"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = b64(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge
