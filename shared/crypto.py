"""Envelope encryption, the one way Relais protects personal data at rest.

Each person gets a data key of their own (AES-256-GCM). The data key is stored only wrapped by
the service's master key, which comes from the environment or from a key file created on first
use. Every sealed value is bound to its context (the person's pseudonymous id, and the entry id
where there is one) as AES-GCM associated data, so a ciphertext moved to another row or person
does not open. Destroying a person's wrapped data key makes everything sealed under it
unreadable for good (crypto-shredding), without touching anything else.

Byte layouts (stable, stored): a sealed value is ``nonce(12) || AES-GCM(data key, plaintext,
aad)``; a wrapped key is ``nonce(12) || AES-GCM(master key, data key, b"dek:" + context)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.config import ConfigError

NONCE_BYTES = 12
KEY_BYTES = 32


class SealBroken(ValueError):
    """A sealed value or a wrapped key does not open: wrong key, wrong context, or altered."""


def load_master_key(master_key_b64: str | None, key_file: Path, *, variable: str) -> bytes:
    """A 32-byte master key from the base64 value of ``variable``, else from ``key_file``,
    created (mode 0600) with a random key on first use."""
    if master_key_b64:
        try:
            key = base64.b64decode(master_key_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{variable} must be base64") from None
        if len(key) != KEY_BYTES:
            raise ConfigError(f"{variable} must be the base64 of 32 bytes")
        return key
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of the same service made it first
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
    return load_master_key(key_file.read_text().strip(), key_file, variable=variable)


def derive_key(master_key: bytes, purpose: bytes) -> bytes:
    """A key for one purpose (HMAC indexes, ...), derived from the master key with HKDF."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(master_key)


class Sealer:
    """Seals and opens values under one data key; make one per key and reuse it for many values
    (setting up the cipher costs more than opening a small value)."""

    __slots__ = ("_cipher",)

    def __init__(self, key: bytes) -> None:
        self._cipher = AESGCM(key)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._cipher.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        try:
            return self._cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):
            raise SealBroken("the sealed value does not open with this key and context") from None


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return Sealer(key).seal(plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return Sealer(key).open(sealed, aad)


class KeyWrapper:
    """Makes and unwraps per-person data keys under one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError("a master key has 32 bytes")
        self._master = AESGCM(master_key)
        # Names the master key in stored rows, so a rotation can tell old wraps from new.
        self.master_key_id = hashlib.sha256(b"relais-master-key-id" + master_key).hexdigest()[:16]

    def new_data_key(self, context: str) -> tuple[bytes, bytes]:
        """A fresh data key for ``context`` (a person's id): (the key, the key wrapped)."""
        data_key = AESGCM.generate_key(bit_length=256)
        return data_key, self.wrap(data_key, context)

    def wrap(self, data_key: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, data_key, b"dek:" + context.encode())

    def unwrap(self, wrapped: bytes, context: str) -> bytes:
        try:
            return self._master.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                        b"dek:" + context.encode())
        except (InvalidTag, ValueError):
            raise SealBroken("the data key does not unwrap with this master key") from None
