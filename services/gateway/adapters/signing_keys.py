"""The gateway's token signing keys: ES256 (P-256), one file per key under the var directory, read
once per process (parsing a private key is slow), published as a JWKS."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from joserfc.jwk import ECKey, KeySet

ALGORITHM = "ES256"


class KeyStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._private: KeySet | None = None
        self._loaded_at = 0.0

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.jwk.json"))

    def ensure_key(self) -> None:
        """Create the first key when there is none."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            if not self._files():
                self._write_new_key()

    def rotate(self) -> str:
        """Add a new key that signs from now on; older keys stay published for verification."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            kid = self._write_new_key()
            self._private = None
            return kid

    def _write_new_key(self) -> str:
        kid = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + os.urandom(3).hex()
        key = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
        path = self.directory / f"{kid}.jwk.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(key.as_dict(private=True), handle)
        return kid

    def _load(self) -> KeySet:
        with self._lock:
            if self._private is None or time.monotonic() - self._loaded_at > 30:
                keys = [ECKey.import_key(json.loads(p.read_text())) for p in self._files()]
                if not keys:
                    raise RuntimeError("no signing key: run `relais migrate` or `relais keys rotate`")
                self._private = KeySet(keys)
                self._loaded_at = time.monotonic()
            return self._private

    def signing_key(self) -> ECKey:
        """The newest key signs."""
        keys = self._load().keys
        return max(keys, key=lambda k: k.kid or "")  # type: ignore[return-value]

    def public_jwks(self) -> dict:
        return self._load().as_dict(private=False)

    def public_key_set(self) -> KeySet:
        return KeySet.import_key_set(self.public_jwks())
