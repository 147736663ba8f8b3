"""Consent receipts signed with Ed25519 (JWS, RFC 9864 "Ed25519"), with the fields of a
Kantara Consent Receipt 1.1 / ISO/IEC TS 27560 record. The private key is kept under
var/keys (created on first use); the public key is published, so a receipt can be checked
offline by anyone who holds it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.jwk import KeySet, OKPKey

ALGORITHM = "Ed25519"
KEY_FILE = "consent-receipts.jwk.json"


class ReceiptSigner:
    def __init__(self, key: OKPKey) -> None:
        self.key = key
        self.kid = str(key.kid)

    @classmethod
    def from_dir(cls, keys_dir: Path) -> ReceiptSigner:
        path = keys_dir / KEY_FILE
        if not path.exists():
            keys_dir.mkdir(parents=True, exist_ok=True)
            key = OKPKey.generate_key("Ed25519", parameters={"use": "sig", "alg": ALGORITHM},
                                      auto_kid=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(key.as_dict(private=True), handle)
        return cls(OKPKey.import_key(json.loads(path.read_text())))

    def sign(self, claims: dict[str, Any]) -> str:
        payload = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": "consent-receipt+jwt"}
        return jws.serialize_compact(header, payload, self.key, algorithms=[ALGORITHM])

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}


def verify_receipt(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Check a receipt against a published key set, offline; returns its claims."""
    key_set = KeySet.import_key_set(jwks)
    header = jws.extract_compact(token.encode()).headers()
    key = key_set.get_by_kid(header["kid"])
    result = jws.deserialize_compact(token, key, algorithms=[ALGORITHM])
    return json.loads(result.payload)
