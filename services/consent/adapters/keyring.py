"""Envelope encryption of identities: one AES-256-GCM data key per person, wrapped by the
master key; national numbers are indexed by HMAC-SHA256 under a key derived from the master key,
so they can be found but never read back from the index. Destroying a person's wrapped data key
makes their identity unreadable for good (crypto-shredding)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.config import ConfigError

MASTER_KEY_FILE = "consent-master.key"
_NONCE = 12


@dataclass(frozen=True)
class SealedIdentity:
    ciphertext: bytes  # nonce || AES-GCM(data key, identity JSON)
    wrapped_key: bytes  # nonce || AES-GCM(master key, data key)
    master_key_id: str


def load_master_key(master_key_b64: str | None, keys_dir: Path) -> bytes:
    """The master key from RELAIS_MASTER_KEY, else from a key file created on first use (0600)."""
    if master_key_b64:
        try:
            key = base64.b64decode(master_key_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("RELAIS_MASTER_KEY must be base64") from None
        if len(key) != 32:
            raise ConfigError("RELAIS_MASTER_KEY must be the base64 of 32 bytes")
        return key
    path = keys_dir / MASTER_KEY_FILE
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
    return load_master_key(path.read_text().strip(), keys_dir)


class Keyring:
    def __init__(self, master_key: bytes) -> None:
        self._master = AESGCM(master_key)
        self.master_key_id = hashlib.sha256(b"relais-master-key-id" + master_key).hexdigest()[:16]
        self._index_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"relais national-number index"
        ).derive(master_key)

    def seal(self, beneficiary_id: str, identity: dict[str, str]) -> SealedIdentity:
        data_key = AESGCM.generate_key(bit_length=256)
        aad = beneficiary_id.encode()
        nonce = os.urandom(_NONCE)
        plaintext = json.dumps(identity, sort_keys=True).encode()
        ciphertext = nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)
        wrap_nonce = os.urandom(_NONCE)
        wrapped = wrap_nonce + self._master.encrypt(wrap_nonce, data_key, b"dek:" + aad)
        return SealedIdentity(ciphertext, wrapped, self.master_key_id)

    def open(self, beneficiary_id: str, sealed: SealedIdentity) -> dict[str, str]:
        aad = beneficiary_id.encode()
        data_key = self._master.decrypt(sealed.wrapped_key[:_NONCE], sealed.wrapped_key[_NONCE:],
                                        b"dek:" + aad)
        plaintext = AESGCM(data_key).decrypt(sealed.ciphertext[:_NONCE], sealed.ciphertext[_NONCE:], aad)
        return json.loads(plaintext)

    def code_digest(self, code: str) -> str:
        """The keyed digest a share code is kept under (the code itself is never stored)."""
        normalised = "".join(ch for ch in code.upper() if ch.isalnum())
        return hmac.new(self._index_key, b"share-code:" + normalised.encode(), hashlib.sha256).hexdigest()

    def national_number_index(self, national_number: str) -> str:
        digits = "".join(ch for ch in national_number if ch.isdigit())
        return hmac.new(self._index_key, digits.encode(), hashlib.sha256).hexdigest()
