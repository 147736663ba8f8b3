"""Grants, exclusions and decisions through the API; bad input and attacks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.consent.conftest import CASE_MANAGER

PSYCHOLOGIST = {"org": "org-ssm", "profession": "psychologist"}
HOUSING = {"org": "org-housing", "profession": "housing_worker"}


def grant(consent, person, body, who="cm-1", claims=CASE_MANAGER):
    return consent.client.post(f"/beneficiaries/{person}/grants", json=body,
                               headers=consent.as_(who, **claims))


def decide(consent, person, categories, who, claims, **extra):
    body = {"beneficiary_id": person, "categories": categories, **extra}
    return consent.client.post("/decisions", json=body, headers=consent.as_(who, **claims))


def verdicts(response) -> dict[str, str]:
    assert response.status_code == 200, response.get_json()
    return {c["category"]: c["decision"] for c in response.get_json()["categories"]}


def test_policy_limits_what_a_grant_opens(consent, person):
    assert grant(consent, person, {
        "grantee_kind": "organisation", "grantee": "org-housing",
        "categories": ["steps", "mental_health_episodes"]}).status_code == 201
    decision = decide(consent, person, ["steps", "mental_health_episodes", "contacts"], "hw-1", HOUSING)
    body = decision.get_json()
    assert verdicts(decision) == {"steps": "permit", "mental_health_episodes": "deny", "contacts": "deny"}
    reasons = {c["category"]: c["reason"] for c in body["categories"]}
    assert reasons == {"steps": "grant", "mental_health_episodes": "policy", "contacts": "no_grant"}
    assert body["policy_version"] == consent.app.extensions["relais.consent"].policy.version


def test_mental_health_episodes_reach_mental_health_professions_only(consent, person):
    grant(consent, person, {"grantee_kind": "organisation", "grantee": "org-ssm",
                            "categories": ["mental_health_episodes"]})
    assert verdicts(decide(consent, person, ["mental_health_episodes"], "psy-1", PSYCHOLOGIST)) == {
        "mental_health_episodes": "permit"}


def test_exclusion_overrides_a_grant_at_once(consent, person):
    grant(consent, person, {"grantee_kind": "professional", "grantee": "psy-1",
                            "categories": ["contacts"]})
    assert verdicts(decide(consent, person, ["contacts"], "psy-1", PSYCHOLOGIST)) == {"contacts": "permit"}
    excluded = consent.client.post(f"/beneficiaries/{person}/exclusions",
                                   json={"kind": "professional", "target": "psy-1"},
                                   headers=consent.as_("cm-1", **CASE_MANAGER))
    assert excluded.status_code == 201
    decision = decide(consent, person, ["contacts"], "psy-1", PSYCHOLOGIST)
    assert verdicts(decision) == {"contacts": "deny"}
    assert decision.get_json()["categories"][0]["reason"] == "exclusion"


def test_revocation_is_a_new_version_and_denies(consent, person):
    given = grant(consent, person, {"grantee_kind": "organisation", "grantee": "org-housing",
                                    "categories": ["steps"]}).get_json()
    revoked = consent.client.post(f"/beneficiaries/{person}/grants/{given['grant_id']}/revoke",
                                  headers=consent.as_("cm-1", **CASE_MANAGER))
    assert revoked.status_code == 200
    assert revoked.get_json()["grant"]["status"] == "revoked"
    assert revoked.get_json()["enforcement"]["epoch"] >= 2
    history = consent.client.get(f"/beneficiaries/{person}/grants/{given['grant_id']}/versions",
                                 headers=consent.as_("cm-1", **CASE_MANAGER)).get_json()["items"]
    assert [(v["version"], v["status"]) for v in history] == [(1, "active"), (2, "revoked")]
    assert verdicts(decide(consent, person, ["steps"], "hw-1", HOUSING)) == {"steps": "deny"}


def test_a_grant_bound_to_a_transition_ends_with_it(consent, person):
    body = grant(consent, person, {"grantee_kind": "organisation", "grantee": "org-housing",
                                   "categories": ["steps"], "transition_kind": "prison_release",
                                   "transition_days": 90}).get_json()
    start = datetime.fromisoformat(body["valid_from"])
    assert datetime.fromisoformat(body["valid_until"]) - start == timedelta(days=90)


def test_batch_decisions(consent, person):
    other = str(uuid.uuid4())
    response = consent.client.post("/decisions/batch", json={"items": [
        {"beneficiary_id": person, "categories": ["steps"]},
        {"beneficiary_id": other, "categories": ["steps"]},
    ]}, headers=consent.as_("cm-1", **CASE_MANAGER))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [i["categories"][0]["decision"] for i in items] == ["permit", "deny"]
    assert items[1]["epoch"] == 0


def test_every_decision_is_audited(consent, person):
    before = sum(e.type == "audit.access_recorded" for e in consent.outbox_events())
    decide(consent, person, ["steps"], "cm-1", CASE_MANAGER)
    decide(consent, person, ["steps"], "hw-1", HOUSING)
    audits = [e for e in consent.outbox_events() if e.type == "audit.access_recorded"][before:]
    assert [a.payload["outcome"] for a in audits] == ["permit", "deny"]
    assert all(a.payload["action"] == "decision.read" for a in audits)


@pytest.mark.parametrize(("body", "field"), [
    ({"grantee_kind": "organisation", "grantee": "x", "categories": ["steps"], "colour": "red"}, "colour"),
    ({"grantee_kind": "organisation", "grantee": "x", "categories": "steps"}, "categories"),
    ({"grantee_kind": "organisation", "grantee": "x", "categories": ["dreams"]}, "categories.0"),
    ({"grantee_kind": "cousin", "grantee": "x", "categories": ["steps"]}, "grantee_kind"),
    ({"grantee_kind": "organisation", "grantee": "x", "categories": ["steps"], "purpose": "marketing"}, "purpose"),
    ({"grantee_kind": "organisation", "grantee": "x", "categories": ["steps"],
      "valid_from": "2026-12-01T00:00:00+00:00", "valid_until": "2026-11-01T00:00:00+00:00"}, "valid_until"),
    ({"grantee_kind": "organisation", "grantee": "x", "categories": ["steps"], "transition_days": "ninety"}, "transition_days"),
    ({"grantee_kind": "organisation", "grantee": "x", "categories": ["steps"], "method": "signed_form"}, "form_reference"),
    ({"grantee_kind": "organisation", "grantee": "x", "categories": ["steps"], "transition_kind": "prison_release"}, "transition_days"),
])
def test_bad_grants_are_422_naming_the_field(consent, person, body, field):
    response = grant(consent, person, body)
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in problem["errors"]]


def test_bad_decision_input_is_422(consent, person):
    for body, field in [({"beneficiary_id": "nope", "categories": ["steps"]}, "beneficiary_id"),
                        ({"beneficiary_id": person, "categories": ["steps"], "action": "delete"}, "action"),
                        ({"beneficiary_id": person}, "categories")]:
        response = consent.client.post("/decisions", json=body, headers=consent.as_("cm-1", **CASE_MANAGER))
        assert response.status_code == 422
        assert field in [e["field"] for e in response.get_json()["errors"]]


def test_granting_on_a_person_without_a_grant_is_404(consent, person):
    response = grant(consent, person, {"grantee_kind": "organisation", "grantee": "org-other",
                                       "categories": ["steps"]}, who="sw-9",
                     claims={"org": "org-other", "profession": "social_worker"})
    missing = grant(consent, str(uuid.uuid4()), {"grantee_kind": "organisation", "grantee": "org-other",
                                                 "categories": ["steps"]}, who="sw-9",
                    claims={"org": "org-other", "profession": "social_worker"})
    assert response.status_code == missing.status_code == 404


def test_a_close_one_cannot_widen_their_own_grant(consent, person):
    grant(consent, person, {"grantee_kind": "close_one", "grantee": "sister-1", "categories": ["steps"]})
    close_one = {"role": "close_one"}
    assert verdicts(decide(consent, person, ["steps"], "sister-1", close_one)) == {"steps": "permit"}
    widened = grant(consent, person, {"grantee_kind": "close_one", "grantee": "sister-1",
                                      "categories": ["steps", "contacts", "identity"]},
                    who="sister-1", claims=close_one)
    assert widened.status_code == 403


def test_a_decision_for_another_actor_is_403(consent, person):
    response = consent.client.post("/decisions", json={
        "beneficiary_id": person, "categories": ["steps"], "actor": {"subject": "someone-else"}},
        headers=consent.as_("cm-1", **CASE_MANAGER))
    assert response.status_code == 403


def test_period_in_the_future_is_not_yet_active(consent, person):
    start = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    grant(consent, person, {"grantee_kind": "organisation", "grantee": "org-housing",
                            "categories": ["steps"], "valid_from": start})
    assert verdicts(decide(consent, person, ["steps"], "hw-1", HOUSING)) == {"steps": "deny"}


def test_care_team_grant_covers_its_members(consent, person):
    team = str(uuid.uuid4())
    added = consent.client.post(f"/care-teams/{team}/members", json={"subject": "hw-7"},
                                headers=consent.as_("hw-7", **HOUSING))
    assert added.status_code == 204
    grant(consent, person, {"grantee_kind": "care_team", "grantee": team, "categories": ["steps"]})
    assert verdicts(decide(consent, person, ["steps"], "hw-7", HOUSING)) == {"steps": "permit"}
    assert verdicts(decide(consent, person, ["steps"], "hw-8", HOUSING)) == {"steps": "deny"}
    intruder = consent.client.post(f"/care-teams/{team}/members", json={"subject": "hw-8"},
                                   headers=consent.as_("hw-8", **HOUSING))
    assert intruder.status_code == 403
