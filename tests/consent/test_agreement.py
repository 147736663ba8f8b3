"""The consent service's decision endpoint and a projection fed only with its events give the
same answer for every case of a scenario, whatever the order and repetition of the events."""

from __future__ import annotations

import itertools
import random
import uuid

import pytest

from shared.consent.decision import Actor, Question, decide
from shared.consent.vocabulary import CATEGORIES
from tests.consent.conftest import CASE_MANAGER
from tests.support.consent_app import LocalProjection

ACTORS = {
    "cm-1": {"role": "professional", **CASE_MANAGER},
    "cm-2": {"role": "professional", **CASE_MANAGER},
    "psy-1": {"role": "professional", "org": "org-ssm", "profession": "psychologist"},
    "psy-2": {"role": "professional", "org": "org-ssm", "profession": "psychiatrist"},
    "hw-1": {"role": "professional", "org": "org-housing", "profession": "housing_worker"},
    "adm-1": {"role": "professional", "org": "org-cpas", "profession": "administrative_staff"},
    "sister-1": {"role": "close_one"},
    "stranger": {"role": "professional", "org": "org-other", "profession": "social_worker"},
}


def build_scenario(consent) -> list[str]:
    cm = consent.as_("cm-1", **CASE_MANAGER)

    def post(path, body):
        response = consent.client.post(path, json=body, headers=cm)
        assert response.status_code in (200, 201, 204), response.get_json()
        return response.get_json()

    people = [consent.client.post("/beneficiaries", headers=cm).get_json()["id"] for _ in range(3)]
    a, b, c = people
    post(f"/beneficiaries/{a}/grants", {"grantee_kind": "organisation", "grantee": "org-ssm",
                                        "categories": ["mental_health_episodes", "contacts", "steps"],
                                        "actions": ["read", "write"]})
    post(f"/beneficiaries/{a}/grants", {"grantee_kind": "professional", "grantee": "hw-1",
                                        "categories": ["steps", "episodes", "mental_health_episodes"]})
    post(f"/beneficiaries/{a}/grants", {"grantee_kind": "close_one", "grantee": "sister-1",
                                        "categories": ["steps", "mental_health_episodes"]})
    post(f"/beneficiaries/{a}/exclusions", {"kind": "professional", "target": "psy-2"})
    given = post(f"/beneficiaries/{b}/grants", {"grantee_kind": "organisation", "grantee": "org-housing",
                                                "categories": ["steps", "identity"]})
    post(f"/beneficiaries/{b}/grants/{given['grant_id']}/revoke", {})
    post(f"/beneficiaries/{b}/grants", {"grantee_kind": "professional", "grantee": "psy-1",
                                        "categories": ["contacts"], "referent": True,
                                        "method": "signed_form", "form_reference": "F-2026-118"})
    post(f"/beneficiaries/{c}/exclusions", {"kind": "organisation", "target": "org-cpas"})
    return [*people, str(uuid.uuid4())]


def api_decisions(consent, people) -> dict:
    found = {}
    for subject, claims in ACTORS.items():
        headers = consent.as_(subject, **claims)
        for person, action, purpose in itertools.product(people, ("read", "write"),
                                                         ("care_coordination", "emergency")):
            body = {"beneficiary_id": person, "categories": list(CATEGORIES), "action": action,
                    "purpose": purpose}
            response = consent.client.post("/decisions", json=body, headers=headers)
            assert response.status_code == 200
            for item in response.get_json()["categories"]:
                found[(subject, person, action, purpose, item["category"])] = (
                    item["decision"], item["reason"], item["grant_id"])
    return found


def projection_decisions(local: LocalProjection, people, policy, at) -> dict:
    found = {}
    for subject, claims in ACTORS.items():
        actor = Actor(subject, claims["role"], claims.get("org"), claims.get("profession"),
                      local.teams_of(subject))
        for person, action, purpose in itertools.product(people, ("read", "write"),
                                                         ("care_coordination", "emergency")):
            decision = decide(local.state(person), actor,
                              Question(person, action, CATEGORIES, purpose, at), policy)
            for item in decision.categories:
                found[(subject, person, action, purpose, item.category)] = (
                    item.outcome, item.reason, item.grant_id)
    return found


@pytest.mark.parametrize("order", ["as_published", "shuffled_with_duplicates"])
def test_endpoint_and_projection_agree_on_every_case(consent, tmp_path, order):
    from datetime import UTC, datetime

    people = build_scenario(consent)
    events = [e for e in consent.outbox_events() if e.type.startswith("consent.")]
    if order != "as_published":
        events = events + events[: len(events) // 2]
        random.Random(7).shuffle(events)
    local = LocalProjection(f"sqlite:///{tmp_path / 'record.db'}")
    for event in events:
        local.feed([event])
    expected = api_decisions(consent, people)
    policy = consent.app.extensions["relais.consent"].policy
    assert projection_decisions(local, people, policy, datetime.now(UTC)) == expected
    permits = {k for k, v in expected.items() if v[0] == "permit"}
    reasons = {v[1] for v in expected.values()}
    # the scenario really exercises every path
    assert reasons >= {"grant", "policy", "exclusion", "no_grant"}
    assert any(k[0] == "sister-1" for k in permits) and any(k[0] == "psy-1" for k in permits)
