"""The gateway's token signing keys: ES256 (P-256), one file per key under the var directory, read
once per process (parsing a private key is slow), published as a JWKS.

A new key is published at once but signs only after ``ACTIVATION_SECONDS``, so that every
gateway process (each rereads the directory every ``RELOAD_SECONDS``) publishes it before any
token signed with it reaches a service. The key it replaces then stays published for a grace
period (the access-token lifetime plus a margin) so that the tokens it signed can still be
verified; after that it is no longer published or trusted, and its file is removed."""

from __future__ import annotations

import calendar
import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from joserfc.jwk import ECKey, KeySet

ALGORITHM = "ES256"
RELOAD_SECONDS = 30.0
ACTIVATION_SECONDS = 2 * RELOAD_SECONDS
# Token signing keys only: other key files may share the directory.
_KEY_FILE = re.compile(r"^\d{8}T\d{6}\d{0,3}-[0-9a-f]+\.jwk\.json$")


def key_created_at(kid: str) -> float:
    """Keys are named `<UTC time to the millisecond>-<random>`; older names have no milliseconds."""
    stamp = kid.split("-", 1)[0]
    seconds = calendar.timegm(time.strptime(stamp[:15], "%Y%m%dT%H%M%S"))
    millis = stamp[15:]
    return seconds + (int(millis) / 1000 if millis.isdigit() else 0.0)


class KeyStore:
    def __init__(
        self, directory: Path, *, grace_seconds: float = 360.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.directory = directory
        self.grace_seconds = grace_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._private: KeySet | None = None
        self._public: KeySet | None = None
        self._valid_until = float("-inf")

    def _files(self) -> list[Path]:
        found = [p for p in self.directory.glob("*.jwk.json") if _KEY_FILE.match(p.name)]
        return sorted(found, key=lambda p: key_created_at(p.name))

    def ensure_key(self) -> None:
        """Create the first key when there is none."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            if not self._files():
                self._write_new_key()

    def rotate(self) -> str:
        """Add a new key that signs from now on; remove the keys whose grace has ended."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            kid = self._write_new_key()
            live = {p for p, _ in self._live_files()}
            for path in self._files():
                if path not in live:
                    path.unlink(missing_ok=True)
            self._valid_until = float("-inf")
            return kid

    def _write_new_key(self) -> str:
        now = max(self.clock(), max((key_created_at(p.name) for p in self._files()), default=0) + 0.001)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}"
        kid = f"{stamp}-{os.urandom(3).hex()}"
        key = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
        path = self.directory / f"{kid}.jwk.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(key.as_dict(private=True), handle)
        return kid

    def _live_files(self) -> list[tuple[Path, float]]:
        """Each key still trusted now, with the time until which it stays trusted."""
        files = self._files()
        now = self.clock()
        live = []
        for index, path in enumerate(files):
            if index == len(files) - 1:
                live.append((path, float("inf")))
                continue
            until = key_created_at(files[index + 1].name) + ACTIVATION_SECONDS + self.grace_seconds
            if until > now:
                live.append((path, until))
        return live

    def _load(self) -> tuple[KeySet, KeySet]:
        with self._lock:
            now = self.clock()
            if self._private is None or now >= self._valid_until:
                live = self._live_files()
                if not live:
                    raise RuntimeError("no signing key: run `relais migrate` or `relais keys rotate`")
                keys = [ECKey.import_key(json.loads(path.read_text())) for path, _ in live]
                self._private = KeySet(keys)
                self._public = KeySet.import_key_set(self._private.as_dict(private=False))
                self._valid_until = min([now + RELOAD_SECONDS, *(until for _, until in live)])
            assert self._public is not None
            return self._private, self._public

    def signing_key(self) -> ECKey:
        """The newest key that every process publishes by now (the oldest one left, when all
        are newer than that: e.g. the very first key)."""
        keys = sorted(self._load()[0].keys, key=lambda k: key_created_at(k.kid or ""))
        active = [k for k in keys if key_created_at(k.kid or "") + ACTIVATION_SECONDS <= self.clock()]
        return (active[-1] if active else keys[0])  # type: ignore[return-value]

    def public_jwks(self) -> dict:
        return self._load()[1].as_dict(private=False)

    def public_key_set(self) -> KeySet:
        return self._load()[1]
