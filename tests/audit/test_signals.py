"""Signals for the data-protection officer are audit events, found by the auditor's search."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import audit_log as support


@pytest.fixture
def settings(tmp_path):
    return support.settings_for(tmp_path, burst_persons=4, burst_minutes=10, no_contact_days=30)


@pytest.fixture
def engine(tmp_path):
    engine = support.migrated(f"sqlite:///{tmp_path / 'audit.db'}")
    yield engine
    engine.dispose()


def _signals(engine):
    return [json.loads(r["canonical"]) for r in support.rows(engine) if r["action"].startswith("signal.")]


def test_an_emergency_access_raises_a_signal(engine, settings):
    person = str(uuid.uuid4())
    support.ingest(engine, settings, [support.envelope(1, person, action="emergency.read", crude="R",
                                                       purpose="emergency", emergency_reason="unconscious")])
    (signal,) = _signals(engine)
    assert signal["action"] == "signal.emergency_access" and signal["beneficiary_id"] == person
    assert signal["emergency_reason"] == "unconscious" and signal["source"] == "audit"


def test_a_read_without_a_write_by_the_organisation_raises_a_signal(engine, settings):
    known, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC)
    support.ingest(engine, settings, [support.envelope(1, known, crude="C", action="contact.log")],
                   now=now - timedelta(days=5))
    support.ingest(engine, settings, [
        support.envelope(2, known, crude="R", action="timeline.read"),
        support.envelope(3, stranger, crude="R", action="timeline.read"),
        support.envelope(4, stranger, crude="R", action="timeline.read", organisation="org-other",
                         outcome="deny"),
    ], now=now)
    signals = _signals(engine)
    assert [(s["action"], s["beneficiary_id"]) for s in signals] == [("signal.no_relationship", stranger)]
    assert signals[0]["actor"]["organisation"] == "org-cpas-1"


def test_an_old_write_no_longer_counts_as_a_relationship(engine, settings):
    person = str(uuid.uuid4())
    now = datetime.now(UTC)
    old = support.envelope(1, person, crude="C", action="contact.log")
    old = type(old)(**{**old.__dict__, "occurred_at": now - timedelta(days=60)})
    support.ingest(engine, settings, [old], now=now - timedelta(days=60))
    support.ingest(engine, settings, [support.envelope(2, person, crude="R", action="timeline.read")], now=now)
    assert [s["action"] for s in _signals(engine)] == ["signal.no_relationship"]


def test_many_persons_read_outside_the_caseload_raise_one_burst_signal(engine, settings):
    people = [str(uuid.uuid4()) for _ in range(6)]
    reads = [support.envelope(n + 1, p, crude="R", action="timeline.read", subject="pro-9")
             for n, p in enumerate(people)]
    support.ingest(engine, settings, reads[:3])
    assert not [s for s in _signals(engine) if s["action"] == "signal.burst"]
    support.ingest(engine, settings, reads[3:5])
    support.ingest(engine, settings, reads[5:])
    bursts = [s for s in _signals(engine) if s["action"] == "signal.burst"]
    assert len(bursts) == 1 and bursts[0]["actor"]["subject"] == "pro-9" and bursts[0]["beneficiary_id"] is None
