"""Secrets the gateway must read back — TOTP seeds, the tokens held for a web session — sealed
at rest with AES-256-GCM, under keys derived (HKDF) from one gateway key: RELAIS_GATEWAY_KEY,
else a key file created on first use under the var directory (0600).

Each purpose has its own derived key, and each sealed value is bound to what it belongs to
(associated data: the user id of a TOTP seed, the session of a token), so a value copied to
another row does not open. A sealed value names the key it was sealed with, for rotation."""

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

GATEWAY_KEY_FILE = "gateway-secrets.key"
_NONCE = 12
_PREFIX = "v1"


class SealedValueError(ValueError):
    """A sealed value that does not open: altered, moved to another row, or another key."""


def load_gateway_key(key_b64: str | None, keys_dir: Path) -> bytes:
    if key_b64:
        try:
            key = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("RELAIS_GATEWAY_KEY must be base64") from None
        if len(key) != 32:
            raise ConfigError("RELAIS_GATEWAY_KEY must be the base64 of 32 bytes")
        return key
    path = keys_dir / GATEWAY_KEY_FILE
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
    return load_gateway_key(path.read_text().strip(), keys_dir)


def derive_key(key: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"relais gateway " + purpose.encode()).derive(key)


class SecretBox:
    """Seal and open small secrets for one purpose."""

    def __init__(self, key: bytes, purpose: str) -> None:
        derived = derive_key(key, purpose)
        self._aead = AESGCM(derived)
        self.key_id = hashlib.sha256(b"relais key id" + derived).hexdigest()[:12]

    def seal(self, plaintext: bytes, bound_to: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, plaintext, bound_to.encode())
        return f"{_PREFIX}.{self.key_id}.{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}"

    def open(self, sealed: str, bound_to: str) -> bytes:
        try:
            prefix, key_id, body = sealed.split(".", 2)
        except ValueError:
            raise SealedValueError("not a sealed value") from None
        if prefix != _PREFIX or key_id != self.key_id:
            raise SealedValueError("sealed with another key")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode())
        except (InvalidTag, ValueError, binascii.Error):
            raise SealedValueError("the sealed value does not open") from None

    @staticmethod
    def is_sealed(value: str) -> bool:
        return value.startswith(_PREFIX + ".")


def totp_box(key: bytes) -> SecretBox:
    return SecretBox(key, "totp-seeds")


def seal_totp(box: SecretBox, user_id: str, secret: str) -> str:
    return box.seal(secret.encode(), f"totp:{user_id}")


def open_totp(box: SecretBox, user_id: str, sealed: str) -> str:
    return box.open(sealed, f"totp:{user_id}").decode()
