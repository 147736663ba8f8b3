"""Each person's journey is sealed under a data key of their own (``shared.crypto``), wrapped by
the record master key (RECORD_MASTER_KEY or a key file). What is sealed: an entry's author and
body. Each sealed value is bound to the person and the entry (associated data), so a ciphertext
copied to another row does not open. Deleting a person's key row shreds their journey."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from services.record.adapters.orm import person_keys
from shared import crypto
from shared.db.statements import insert_ignoring_duplicates

MASTER_KEY_FILE = "record-master.key"


def load_master_key(master_key_b64: str | None, keys_dir: Path) -> bytes:
    return crypto.load_master_key(master_key_b64, keys_dir / MASTER_KEY_FILE,
                                  variable="RECORD_MASTER_KEY")


_WRAPPED_KEY = select(person_keys.c.wrapped_key).where(
    person_keys.c.beneficiary_id == bindparam("beneficiary_id"))


class PersonKeys:
    def __init__(self, master_key: bytes) -> None:
        self._wrapper = crypto.KeyWrapper(master_key)

    def find(self, session: Session, beneficiary_id: str) -> bytes | None:
        """The person's data key, or None when they have none (nothing recorded, or shredded)."""
        wrapped = session.connection().execute(_WRAPPED_KEY, {"beneficiary_id": beneficiary_id}).scalar()
        return self.unwrap(wrapped, beneficiary_id)

    def unwrap(self, wrapped: bytes | None, beneficiary_id: str) -> bytes | None:
        """The data key from its wrapped form as stored (None: the person has none)."""
        return None if wrapped is None else self._wrapper.unwrap(wrapped, beneficiary_id)

    def obtain(self, session: Session, beneficiary_id: str) -> bytes:
        """The person's data key, made on their first entry. When two first entries race, the
        second insert does nothing and both use the key that won."""
        found = self.find(session, beneficiary_id)
        if found is not None:
            return found
        _data_key, wrapped = self._wrapper.new_data_key(beneficiary_id)
        session.execute(insert_ignoring_duplicates(session, person_keys, {
            "beneficiary_id": beneficiary_id, "wrapped_key": wrapped,
            "master_key_id": self._wrapper.master_key_id, "created_at": datetime.now(UTC)}))
        found = self.find(session, beneficiary_id)
        assert found is not None
        return found


def _aad(beneficiary_id: str, entry_id: str) -> bytes:
    return f"{beneficiary_id}|{entry_id}".encode()


def seal_entry(key: bytes | crypto.Sealer, beneficiary_id: str, entry_id: str,
               document: dict[str, Any]) -> bytes:
    sealer = key if isinstance(key, crypto.Sealer) else crypto.Sealer(key)
    plaintext = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return sealer.seal(plaintext, _aad(beneficiary_id, entry_id))


def open_entry(key: bytes | crypto.Sealer, beneficiary_id: str, entry_id: str,
               sealed: bytes) -> dict[str, Any]:
    sealer = key if isinstance(key, crypto.Sealer) else crypto.Sealer(key)
    return orjson.loads(sealer.open(sealed, _aad(beneficiary_id, entry_id)))


def _head_aad(beneficiary_id: str) -> bytes:
    return f"{beneficiary_id}|timeline-head".encode()


def seal_head(key: bytes, beneficiary_id: str, stored: bytes) -> bytes:
    """The head of a person's timeline (domain/timeline_head.py), sealed like their entries."""
    return crypto.Sealer(key).seal(stored, _head_aad(beneficiary_id))


def open_head(key: bytes, beneficiary_id: str, sealed: bytes) -> bytes:
    return crypto.Sealer(key).open(sealed, _head_aad(beneficiary_id))
