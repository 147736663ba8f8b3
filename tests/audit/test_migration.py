"""Migration audit_0002 places entries stored before it in the tree, and can be undone."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.audit import reports
from services.audit.adapters.orm import audit_log
from shared.db.engine import make_engine
from shared.db.migrations import current_revision, downgrade, upgrade
from tests.support import audit_log as support


def _old_row(n: int, person: str) -> dict:
    event_id = str(uuid.uuid4())
    occurred = datetime(2026, 11, 1, 10, n, tzinfo=UTC)
    canonical = {"event_id": event_id, "type": "audit.access_recorded", "source": "record", "source_sequence": n,
                 "occurred_at": occurred.isoformat(), "payload": support.payload(person)}
    return {"event_id": event_id, "source": "record", "source_sequence": n, "event_type": "audit.access_recorded",
            "occurred_at": occurred, "received_at": occurred, "beneficiary_id": person, "actor_subject": "pro-1",
            "actor_organisation": "org-cpas-1", "action": "contact.log", "outcome": "permit",
            "canonical": json.dumps(canonical, sort_keys=True, separators=(",", ":"))}


def test_entries_stored_before_the_tree_are_placed_in_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade("audit", url, "audit_0001")
    engine = make_engine(url)
    person = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(audit_log.insert().values(**{k: v for k, v in _old_row(1, person).items()}))
        connection.execute(audit_log.insert().values(**_old_row(2, person)))
    upgrade("audit", url)
    assert current_revision("audit", url) == "audit_0002"
    settings = support.settings_for(tmp_path)
    support.checkpoint(engine, settings)
    rows = support.rows(engine)
    assert [r["leaf_index"] for r in rows] == [0, 1] and [r["person_seq"] for r in rows] == [1, 2]
    with Session(engine) as session:
        report = reports.verification_report(session, settings.origin, support.public_key(settings))
    assert report["ok"] is True, report
    downgrade("audit", url, "audit_0001")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 2
    engine.dispose()
