"""The checkpoint signing key: Ed25519, created on first use under the key directory, loaded
once per process (parsing a key file on every checkpoint would cost for nothing)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

KEY_FILE = "checkpoint-ed25519.pem"
_keys: dict[Path, Ed25519PrivateKey] = {}
_lock = threading.Lock()


def signing_key(key_dir: Path) -> Ed25519PrivateKey:
    path = (key_dir / KEY_FILE).resolve()
    with _lock:
        key = _keys.get(path)
        if key is None:
            key = _keys[path] = _load_or_create(path)
        return key


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        try:  # O_EXCL: when two processes start at once, the first key written wins
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key
