"""The migration that seals the journey keeps what the walking skeleton had stored."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from services.record.adapters.repository import JourneyRepository
from services.record.adapters.sealing import PersonKeys, load_master_key
from shared.db.migrations import upgrade


def test_skeleton_contacts_are_sealed_under_their_persons_key(tmp_path, monkeypatch):
    monkeypatch.setenv("RELAIS_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("RECORD_MASTER_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'record.db'}"
    upgrade("record", url, "record_0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO entries VALUES ('e1', 'p1', 'contact', 'contacts', '2026-11-20 10:00:00+00:00', "
            "'2026-11-20 10:05:00+00:00', 'u1', 'org-1', 'nurse', '2026.1', "
            "'{\"modality\": \"phone\", \"outcome\": \"met\", \"duration_minutes\": 5}')"))
    upgrade("record", url)
    keys = PersonKeys(load_master_key(None, tmp_path / "keys"))
    with Session(engine) as session:
        key = keys.find(session, "p1")
        entry = JourneyRepository(session).get("p1", "e1", key)
        raw = session.execute(text("SELECT sealed FROM journey_entries")).scalar_one()
        person = JourneyRepository(session).person("p1")
    assert entry.body == {"modality": "phone", "outcome": "met", "duration_minutes": 5}
    assert entry.author.organisation == "org-1" and entry.occurred_at.hour == 10
    assert person.last_met_entry_id == "e1"
    assert b"phone" not in raw and b"org-1" not in raw
    engine.dispose()
