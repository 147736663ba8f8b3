"""Logging contacts: the rules, the answer, the events and the audit of the same transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.bus.envelope import encode
from shared.journey import events as journey_events

from .conftest import STRANGER


def iso(delta=timedelta(hours=-1)) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def test_a_contact_is_logged_with_labels_events_and_audit(record, person, cm):
    response = record.client.post(
        f"/beneficiaries/{person}/contacts",
        json={"occurred_at": iso(), "modality": "street_outreach", "outcome": "met",
              "duration_minutes": 20},
        headers={**cm, "Accept-Language": "nl"})
    assert response.status_code == 201, response.get_json()
    entry = response.get_json()
    assert entry["kind"] == "contact" and entry["category"] == "contacts"
    assert entry["data"] == {"modality": "street_outreach", "outcome": "met", "duration_minutes": 20}
    assert entry["labels"]["modality"] == "Straathoekwerk"
    assert entry["author"] == {"organisation": "org-cpas", "profession": "case_manager", "masked": False}
    assert response.headers["Content-Language"] == "nl"

    [event] = record.outbox_events(journey_events.CONTACT_LOGGED)
    assert event.payload["entry_id"] == entry["id"] and event.payload["outcome"] == "met"
    journey_events.load(event.type, event.payload)  # the contract holds
    encode(event)  # and nothing personal travels
    [audit] = [a for a in record.audits() if a["action"] == "contact.log"]
    assert audit["outcome"] == "permit" and audit["entry_ids"] == [entry["id"]]
    assert audit["categories"] == ["contacts"] and audit["consent"]["grant_id"]


@pytest.mark.parametrize("body, field", [
    ({"modality": "phone", "outcome": "met"}, "occurred_at"),
    ({"occurred_at": iso(), "modality": "telepathy", "outcome": "met"}, "modality"),
    ({"occurred_at": iso(), "modality": "phone", "outcome": "seen"}, "outcome"),
    ({"occurred_at": iso(timedelta(hours=2)), "modality": "phone", "outcome": "met"}, "occurred_at"),
    ({"occurred_at": "2026-11-20T10:00:00", "modality": "phone", "outcome": "met"}, "occurred_at"),
    ({"occurred_at": iso(), "modality": "phone", "outcome": "met", "note": "said he was tired"}, "note"),
    ({"occurred_at": iso(), "modality": "phone", "outcome": "met", "duration_minutes": "20"}, "duration_minutes"),
    ({"occurred_at": iso(), "modality": "phone", "outcome": "met", "duration_minutes": 0}, "duration_minutes"),
])
def test_bad_contacts_are_422_naming_the_field_and_write_nothing(record, person, cm, body, field):
    response = record.client.post(f"/beneficiaries/{person}/contacts", json=body, headers=cm)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}
    assert record.outbox_events(journey_events.CONTACT_LOGGED) == []


def test_without_a_grant_the_answer_is_the_same_as_for_nobody(record, person):
    stranger = record.as_("sw-9", **STRANGER)
    body = {"occurred_at": iso(), "modality": "phone", "outcome": "met"}
    existing = record.client.post(f"/beneficiaries/{person}/contacts", json=body, headers=stranger)
    nobody = record.client.post(f"/beneficiaries/{uuid.uuid4()}/contacts", json=body, headers=stranger)
    assert existing.status_code == nobody.status_code == 404
    strip = lambda r: {k: v for k, v in r.get_json().items() if k != "request_id"}  # noqa: E731
    assert strip(existing) == strip(nobody)
    denied = [a for a in record.audits() if a["outcome"] == "deny"]
    assert {a["beneficiary_id"] for a in denied} >= {person}
    assert record.outbox_events(journey_events.CONTACT_LOGGED) == []


def test_a_profession_the_policy_does_not_let_write_is_told_403(record, person):
    # Administrative staff of the same organisation see identity and referent, write nothing.
    admin = record.as_("adm-1", org="org-cpas", profession="administrative_staff")
    response = record.client.post(f"/beneficiaries/{person}/contacts", headers=admin,
                                  json={"occurred_at": iso(), "modality": "phone", "outcome": "met"})
    assert response.status_code == 403
    assert response.get_json()["type"] == "urn:relais:problem:forbidden"


def test_the_scope_is_checked_before_anything(record, person):
    reader = record.as_("cm-1", org="org-cpas", profession="case_manager", scopes="record:read")
    response = record.client.post(f"/beneficiaries/{person}/contacts", headers=reader,
                                  json={"occurred_at": iso(), "modality": "phone", "outcome": "met"})
    assert response.status_code == 403
    assert response.get_json()["type"] == "urn:relais:problem:insufficient-scope"
