"""Entries are never changed: a correction supersedes, a void marks "entered in error", and
both stay in the history. The database itself refuses to rewrite the journey."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from shared.journey import events as journey_events


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def post(record, path, body, headers, status=201):
    response = record.client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def timeline(record, person, headers, query=""):
    return record.client.get(f"/beneficiaries/{person}/timeline{query}", headers=headers).get_json()


def test_a_correction_supersedes_and_both_stay_in_the_history(record, person, cm):
    first = post(record, f"/beneficiaries/{person}/contacts",
                 {"occurred_at": ago(hours=3), "modality": "phone", "outcome": "met"}, cm)
    fixed = post(record, f"/beneficiaries/{person}/entries/{first['id']}/corrections",
                 {"modality": "home_visit"}, cm)
    assert fixed["supersedes"] == first["id"] and fixed["data"]["modality"] == "home_visit"
    assert [i["id"] for i in timeline(record, person, cm)["items"]] == [fixed["id"]]
    history = {i["id"]: i for i in timeline(record, person, cm, "?history=true")["items"]}
    assert history[first["id"]]["status"] == "superseded"
    assert history[first["id"]]["replaced_by"] == fixed["id"]
    assert history[fixed["id"]]["status"] == "current"
    [republished] = [e for e in record.outbox_events(journey_events.CONTACT_LOGGED)
                     if e.payload["supersedes"]]
    assert republished.payload["supersedes"] == first["id"]
    again = record.client.post(f"/beneficiaries/{person}/entries/{first['id']}/corrections",
                               json={"modality": "video"}, headers=cm)
    assert again.status_code == 422


def test_a_correction_may_only_change_what_its_kind_has(record, person, cm):
    first = post(record, f"/beneficiaries/{person}/contacts",
                 {"occurred_at": ago(hours=3), "modality": "phone", "outcome": "met"}, cm)
    response = record.client.post(f"/beneficiaries/{person}/entries/{first['id']}/corrections",
                                  json={"episode_type": "incarceration"}, headers=cm)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "episode_type"
    empty = record.client.post(f"/beneficiaries/{person}/entries/{first['id']}/corrections",
                               json={}, headers=cm)
    assert empty.status_code == 422


def test_voiding_the_only_met_contact_gives_back_the_previous_last_seen(record, person, cm):
    older = post(record, f"/beneficiaries/{person}/contacts",
                 {"occurred_at": ago(days=10), "modality": "phone", "outcome": "met"}, cm)
    newer = post(record, f"/beneficiaries/{person}/contacts",
                 {"occurred_at": ago(days=1), "modality": "phone", "outcome": "met"}, cm)
    assert timeline(record, person, cm)["last_seen"]["at"].startswith(newer["occurred_at"][:16])
    post(record, f"/beneficiaries/{person}/entries/{newer['id']}/void", {"reason": "wrong_person"}, cm)
    seen = timeline(record, person, cm)
    assert seen["last_seen"]["at"].startswith(older["occurred_at"][:16])
    assert [i["id"] for i in seen["items"]] == [older["id"]]
    [voided] = record.outbox_events(journey_events.ENTRY_VOIDED)
    assert voided.payload["voided_entry_id"] == newer["id"] and voided.payload["reason"] == "wrong_person"


def test_voiding_the_latest_status_change_gives_the_step_its_previous_status(record, person, cm):
    step = post(record, f"/beneficiaries/{person}/steps", {"step_kind": "bank_account"}, cm)
    step_id = step["data"]["step_id"]
    moved = post(record, f"/beneficiaries/{person}/steps/{step_id}/status", {"status": "in_progress"}, cm)
    done = post(record, f"/beneficiaries/{person}/steps/{step_id}/status", {"status": "done"}, cm)
    early = record.client.post(f"/beneficiaries/{person}/entries/{moved['id']}/void",
                               json={"reason": "wrong_date"}, headers=cm)
    assert early.status_code == 422  # only the latest change of a step
    post(record, f"/beneficiaries/{person}/entries/{done['id']}/void", {"reason": "did_not_happen"}, cm)
    summary = record.client.get(f"/beneficiaries/{person}/summary", headers=cm).get_json()
    assert [(s["step_id"], s["status"]) for s in summary["open_steps"]] == [(step_id, "in_progress")]


def test_voiding_a_transition_voids_its_protocol(record, person, cm):
    answer = post(record, f"/beneficiaries/{person}/transitions", {
        "transition_kind": "eviction", "occurred_at": ago(days=1),
        "fragility": {"housing": "none", "close_ones": "present", "income": "secured",
                      "health_follow_up": "yes"}}, cm)
    post(record, f"/beneficiaries/{person}/entries/{answer['transition']['id']}/void",
         {"reason": "wrong_person"}, cm)
    assert len(record.outbox_events(journey_events.ENTRY_VOIDED)) == 1 + len(answer["activations"])
    summary = record.client.get(f"/beneficiaries/{person}/summary", headers=cm).get_json()
    assert summary["last_transition"] is None
    assert timeline(record, person, cm)["items"] == []


def test_an_unknown_or_hidden_entry_is_404(record, person, cm):
    missing = record.client.post(f"/beneficiaries/{person}/entries/{uuid.uuid4()}/void",
                                 json={"reason": "duplicate"}, headers=cm)
    assert missing.status_code == 404


@pytest.mark.parametrize("statement", [
    "UPDATE journey_entries SET kind = 'step'",
    "DELETE FROM journey_entries",
    "UPDATE entry_replacements SET how = 'superseded'",
    "DELETE FROM entry_replacements",
])
def test_the_database_refuses_to_rewrite_the_journey(record, person, cm, statement, tmp_path):
    # The harness made its tables with create_all; the triggers come with the migration.
    from shared.db.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade("record", url)
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO journey_entries (id, beneficiary_id, kind, category, occurred_at, recorded_at, "
            "vocabulary_version, sealed) VALUES ('e1', 'p1', 'contact', 'contacts', '2026-01-01', "
            "'2026-01-01', 'v', x'00')"))
        connection.execute(text(
            "INSERT INTO entry_replacements VALUES ('e1', 'p1', 'voided', 'e2')"))
    with pytest.raises(DatabaseError), engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()
