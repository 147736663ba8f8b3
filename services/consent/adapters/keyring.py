"""Envelope encryption of identities (``shared.crypto``): one data key per person, wrapped by
the consent master key; national numbers and share codes are indexed by HMAC-SHA256 under a key
derived from the master key, so they can be found but never read back from the index.
Destroying a person's wrapped data key makes their identity unreadable for good."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from shared import crypto

MASTER_KEY_FILE = "consent-master.key"


@dataclass(frozen=True)
class SealedIdentity:
    ciphertext: bytes  # nonce || AES-GCM(data key, identity JSON, aad = person id)
    wrapped_key: bytes  # nonce || AES-GCM(master key, data key, aad = "dek:" + person id)
    master_key_id: str


def load_master_key(master_key_b64: str | None, keys_dir: Path) -> bytes:
    """The master key from RELAIS_MASTER_KEY, else from a key file created on first use (0600)."""
    return crypto.load_master_key(master_key_b64, keys_dir / MASTER_KEY_FILE,
                                  variable="RELAIS_MASTER_KEY")


class Keyring:
    def __init__(self, master_key: bytes) -> None:
        self._keys = crypto.KeyWrapper(master_key)
        self.master_key_id = self._keys.master_key_id
        self._index_key = crypto.derive_key(master_key, b"relais national-number index")

    def seal(self, beneficiary_id: str, identity: dict[str, str]) -> SealedIdentity:
        data_key, wrapped = self._keys.new_data_key(beneficiary_id)
        plaintext = json.dumps(identity, sort_keys=True).encode()
        return SealedIdentity(crypto.seal(data_key, plaintext, beneficiary_id.encode()), wrapped,
                              self.master_key_id)

    def open(self, beneficiary_id: str, sealed: SealedIdentity) -> dict[str, str]:
        data_key = self._keys.unwrap(sealed.wrapped_key, beneficiary_id)
        return json.loads(crypto.open_sealed(data_key, sealed.ciphertext, beneficiary_id.encode()))

    def code_digest(self, code: str) -> str:
        """The keyed digest a share code is kept under (the code itself is never stored)."""
        normalised = "".join(ch for ch in code.upper() if ch.isalnum())
        return hmac.new(self._index_key, b"share-code:" + normalised.encode(), hashlib.sha256).hexdigest()

    def national_number_index(self, national_number: str) -> str:
        digits = "".join(ch for ch in national_number if ch.isdigit())
        return hmac.new(self._index_key, digits.encode(), hashlib.sha256).hexdigest()
