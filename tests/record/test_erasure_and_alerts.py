"""Erasure shreds a person's journey (their data key is destroyed) and leaves every other row
as it was; alert events keep the caseload's open-alert count."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.record.adapters import orm
from services.record.adapters.sealing import open_entry
from shared import crypto
from shared.bus.envelope import Envelope
from shared.journey import events as journey_events


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def contact(record, person, headers):
    response = record.client.post(f"/beneficiaries/{person}/contacts", headers=headers,
                                  json={"occurred_at": ago(hours=1), "modality": "phone", "outcome": "met"})
    assert response.status_code == 201
    return response.get_json()["id"]


def test_erasure_shreds_the_journey_and_touches_nothing_else(record, cm):
    erased, kept = record.register("cm-1"), record.register("cm-1")
    erased_entries = [contact(record, erased, cm) for _ in range(3)]
    kept_entry = contact(record, kept, cm)
    with Session(record.engine) as session:
        before = {row.id: row.sealed for row in session.execute(select(orm.entries))}
        wrapped = session.execute(select(orm.person_keys.c.wrapped_key).where(
            orm.person_keys.c.beneficiary_id == erased)).scalar_one()
    keys = record.app.extensions["relais.record"].keys
    data_key = keys._wrapper.unwrap(wrapped, erased)  # what an attacker with a backup of the key row had

    me = record.consent.as_("bea", role="beneficiary", beneficiary=erased, scopes="self")
    answer = record.consent.client.post("/me/erasure", headers=me)
    assert answer.status_code in (200, 202), answer.get_json()
    record.sync()

    with Session(record.engine) as session:
        after = {row.id: row.sealed for row in session.execute(select(orm.entries))}
        assert after == before  # not one entry row changed or went
        assert session.execute(select(func.count()).select_from(orm.person_keys).where(
            orm.person_keys.c.beneficiary_id == erased)).scalar() == 0
        assert keys.find(session, erased) is None
        assert keys.find(session, kept) is not None
        for entry_id in erased_entries:
            # Without the person's key nothing opens; with another person's key nothing opens either.
            other_key = keys.find(session, kept)
            with pytest.raises(crypto.SealBroken):
                open_entry(other_key, erased, entry_id, after[entry_id])
        assert open_entry(data_key, erased, erased_entries[0], after[erased_entries[0]])["body"]["outcome"] == "met"
    # The person is gone for every reader, and the other person reads as before.
    assert record.client.get(f"/beneficiaries/{erased}/timeline", headers=cm).status_code == 404
    items = record.client.get(f"/beneficiaries/{kept}/timeline", headers=cm).get_json()["items"]
    assert [i["id"] for i in items] == [kept_entry]
    [event] = record.outbox_events(journey_events.PERSON_ERASED)
    assert event.payload == {"beneficiary_id": erased}


def test_erasure_is_applied_once_even_if_delivered_twice(record, cm):
    person = record.register("cm-1")
    contact(record, person, cm)
    me = record.consent.as_("bea", role="beneficiary", beneficiary=person, scopes="self")
    record.consent.client.post("/me/erasure", headers=me)
    record.sync()
    erased = [e for e in record.consent.outbox_events() if e.type == "consent.beneficiary_erased"]
    record.applied.clear()
    record.sync()  # every consent event again, the erasure included
    assert len(erased) == 1
    assert record.client.get(f"/beneficiaries/{person}/timeline", headers=cm).status_code == 404


def _alert(kind: str, alert_id: str, person: str, at: datetime) -> Envelope:
    return Envelope(type=kind, producer="alerts", payload={
        "alert_id": alert_id, "beneficiary_id": person, "rule": "not_seen",
        "state": kind.split(".")[1], "at": at.isoformat()})


def test_alert_events_keep_the_open_alert_count(record, person, cm):
    now = datetime.now(UTC)
    first, second = f"not_seen:{person}:1", f"not_seen:{person}:2"
    record.deliver("record.alerts", _alert("alert.opened", first, person, now - timedelta(hours=3)))
    record.deliver("record.alerts", _alert("alert.opened", second, person, now - timedelta(hours=2)))
    record.deliver("record.alerts", _alert("alert.resolved", first, person, now - timedelta(hours=1)))
    # A late "opened" for an alert already resolved changes nothing.
    record.deliver("record.alerts", _alert("alert.opened", first, person, now - timedelta(hours=4)))
    summary = record.client.get(f"/beneficiaries/{person}/summary", headers=cm).get_json()
    assert summary["open_alerts"] == 1
    caseload = record.client.get("/caseload", headers=cm).get_json()
    assert caseload["items"][0]["open_alerts"] == 1
    # A reader without the alerts category sees no count at all.
    record.grant(person, grantee_kind="organisation", grantee="org-housing", categories=["steps"])
    housing = record.as_("hw-1", org="org-housing", profession="housing_worker")
    assert record.client.get(f"/beneficiaries/{person}/summary", headers=housing).get_json()["open_alerts"] is None


def test_a_malformed_alert_event_fails_loudly_for_the_dead_letter_queue(record, person):
    bad = Envelope(type="alert.opened", producer="alerts", payload={"alert_id": str(uuid.uuid4())})
    from shared.alerting.events import InvalidAlertEvent

    with pytest.raises(InvalidAlertEvent):
        record.deliver("record.alerts", bad)
    with Session(record.engine) as session:
        assert session.execute(select(func.count()).select_from(orm.open_alerts)).scalar() == 0
