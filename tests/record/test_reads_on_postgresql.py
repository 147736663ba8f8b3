"""A read on the real PostgreSQL: its only write, the audit event, is committed by the time the
answer leaves, and when that write fails nothing of the journey is answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from shared.db.migrations import upgrade
from tests.support.record_app import CASE_MANAGER, make_record

pytestmark = pytest.mark.integration

REFUSE_TIMELINE_AUDIT = """
CREATE FUNCTION refuse_timeline_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.body LIKE '%timeline.read%' THEN RAISE EXCEPTION 'the audit log is unavailable'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse_timeline_audit BEFORE INSERT ON outbox
  FOR EACH ROW EXECUTE FUNCTION refuse_timeline_audit();
"""


@pytest.fixture
def pg_record(tmp_path, pg_url):
    upgrade("record", pg_url)
    harness = make_record(tmp_path, database_url=pg_url)
    yield harness, pg_url


def _committed_timeline_audits(url: str) -> int:
    """Counted from another connection: only what was committed."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM outbox WHERE event_type = 'audit.access_recorded' "
                "AND body LIKE '%\"timeline.read\"%'")).scalar_one()
    finally:
        engine.dispose()


def test_the_audit_event_of_a_read_is_committed_before_the_answer(pg_record):
    record, url = pg_record
    person = record.register("cm-1", **CASE_MANAGER)
    cm = record.as_("cm-1", **CASE_MANAGER)
    logged = record.client.post(f"/beneficiaries/{person}/contacts", headers=cm, json={
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "modality": "phone", "outcome": "met"})
    assert logged.status_code == 201, logged.get_json()
    for expected in (1, 2):
        answer = record.client.get(f"/beneficiaries/{person}/timeline", headers=cm)
        assert answer.status_code == 200 and len(answer.get_json()["items"]) == 1
        assert _committed_timeline_audits(url) == expected


def test_a_read_whose_audit_event_cannot_be_written_answers_nothing_of_the_journey(pg_record):
    record, url = pg_record
    person = record.register("cm-1", **CASE_MANAGER)
    cm = record.as_("cm-1", **CASE_MANAGER)
    record.client.post(f"/beneficiaries/{person}/contacts", headers=cm, json={
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "modality": "phone", "outcome": "met"})
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(REFUSE_TIMELINE_AUDIT))
        answer = record.client.get(f"/beneficiaries/{person}/timeline", headers=cm)
        assert answer.status_code == 500 and answer.mimetype == "application/problem+json"
        assert "items" not in answer.get_json() and "phone" not in answer.get_data(as_text=True)
        assert _committed_timeline_audits(url) == 0
        with admin.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_timeline_audit ON outbox"))
        # The pooled connection the failed read used serves the next read as usual.
        assert record.client.get(f"/beneficiaries/{person}/timeline", headers=cm).status_code == 200
        assert _committed_timeline_audits(url) == 1
    finally:
        admin.dispose()
