"""A block can be lifted and an emergency access ended early; each change reaches a projection
fed only with consent's events, and is audited."""

from __future__ import annotations

import uuid

from tests.consent.conftest import CASE_MANAGER
from tests.consent.test_emergency_and_share_codes import ER_DOCTOR, decide, open_emergency
from tests.support.consent_app import LocalProjection

HOUSING = {"org": "org-housing", "profession": "housing_worker"}


def _me(consent, person):
    return consent.as_("bea", role="beneficiary", beneficiary=person, scopes="self")


def test_the_person_lifts_a_block_and_access_comes_back(consent, person, tmp_path):
    cm = consent.as_("cm-1", **CASE_MANAGER)
    consent.client.post(f"/beneficiaries/{person}/grants", headers=cm, json={
        "grantee_kind": "organisation", "grantee": "org-housing", "categories": ["steps"]})
    blocked = consent.client.post("/me/exclusions", headers=_me(consent, person),
                                  json={"kind": "organisation", "target": "org-housing"})
    exclusion_id = blocked.get_json()["exclusion_id"]
    assert decide(consent, person, ["steps"], "hw-1", HOUSING)["steps"] == ("deny", "exclusion")

    lifted = consent.client.post(f"/me/exclusions/{exclusion_id}/lift", headers=_me(consent, person))
    assert lifted.status_code == 204
    assert decide(consent, person, ["steps"], "hw-1", HOUSING)["steps"] == ("permit", "grant")
    listed = consent.client.get("/me/exclusions", headers=_me(consent, person)).get_json()["items"]
    assert listed[0]["lifted_at"] is not None
    again = consent.client.post(f"/me/exclusions/{exclusion_id}/lift", headers=_me(consent, person))
    assert again.status_code == 404

    # Another service, fed only with the events, agrees.
    projection = LocalProjection(f"sqlite:///{tmp_path / 'other.db'}")
    projection.feed(consent.outbox_events())
    assert projection.state(person).exclusions == ()
    kinds = [e.type for e in consent.outbox_events()]
    assert "consent.exclusion_lifted" in kinds
    audits = [e.payload["action"] for e in consent.outbox_events() if e.type == "audit.access_recorded"]
    assert "exclusion.lift" in audits


def test_a_block_of_someone_else_cannot_be_lifted(consent, person):
    cm = consent.as_("cm-1", **CASE_MANAGER)
    other = consent.client.post("/beneficiaries", headers=cm).get_json()["id"]
    blocked = consent.client.post("/me/exclusions", headers=_me(consent, other),
                                  json={"kind": "professional", "target": "cm-2"})
    exclusion_id = blocked.get_json()["exclusion_id"]
    mine = consent.client.post(f"/me/exclusions/{exclusion_id}/lift", headers=_me(consent, person))
    unknown = consent.client.post(f"/me/exclusions/{uuid.uuid4()}/lift", headers=_me(consent, person))
    assert mine.status_code == unknown.status_code == 404


def test_an_emergency_access_ends_early_by_its_opener_or_the_person(consent, person, tmp_path):
    first = open_emergency(consent, person).get_json()["access_id"]
    assert decide(consent, person, ["contacts"], "er-1", ER_DOCTOR, "emergency")["contacts"][0] == "permit"
    stranger = consent.client.post(f"/beneficiaries/{person}/emergency-access/{first}/close",
                                   headers=consent.as_("er-2", **ER_DOCTOR))
    assert stranger.status_code == 404
    closed = consent.client.post(f"/beneficiaries/{person}/emergency-access/{first}/close",
                                 headers=consent.as_("er-1", **ER_DOCTOR))
    assert closed.status_code == 200, closed.get_json()
    assert decide(consent, person, ["contacts"], "er-1", ER_DOCTOR, "emergency")["contacts"][0] == "deny"
    twice = consent.client.post(f"/beneficiaries/{person}/emergency-access/{first}/close",
                                headers=consent.as_("er-1", **ER_DOCTOR))
    assert twice.status_code == 422 and twice.get_json()["errors"][0]["field"] == "access_id"

    second = open_emergency(consent, person).get_json()["access_id"]
    by_person = consent.client.post(f"/me/emergencies/{second}/close", headers=_me(consent, person))
    assert by_person.status_code == 200
    assert decide(consent, person, ["contacts"], "er-1", ER_DOCTOR, "emergency")["contacts"][0] == "deny"
    shown = consent.client.get("/me/emergencies", headers=_me(consent, person)).get_json()["items"]
    assert all(item["closed_at"] for item in shown)

    projection = LocalProjection(f"sqlite:///{tmp_path / 'other.db'}")
    projection.feed(consent.outbox_events())
    assert projection.state(person).emergencies == ()
    audits = [e.payload for e in consent.outbox_events() if e.type == "audit.access_recorded"
              and e.payload["action"] == "emergency.close"]
    assert len(audits) == 2
