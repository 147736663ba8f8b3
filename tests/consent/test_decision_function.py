"""The pure decision function, case by case, and the policy file's own rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.consent.decision import (
    Actor,
    ConsentState,
    EmergencyTerms,
    ExclusionTerms,
    GrantTerms,
    Question,
    decide,
)
from shared.consent.policy import load_policy, parse_policy
from shared.consent.vocabulary import CATEGORIES, professions

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
POLICY = load_policy()
PSY = Actor("psy-1", "professional", "org-ssm", "psychologist")
ADMIN = Actor("adm-1", "professional", "org-ssm", "administrative_staff")


def grant(**overrides) -> GrantTerms:
    values = {"grant_id": "g1", "version": 1, "grantee_kind": "organisation", "grantee": "org-ssm",
              "categories": frozenset(CATEGORIES), "purpose": "care_coordination",
              "actions": frozenset({"read"}), "valid_from": NOW - timedelta(days=1),
              "valid_until": NOW + timedelta(days=1)}
    return GrantTerms(**{**values, **overrides})


def ask(state, actor, categories=("steps",), action="read", purpose="care_coordination", at=NOW):
    decision = decide(state, actor, Question("p1", action, tuple(categories), purpose, at), POLICY)
    return {c.category: c.reason for c in decision.categories}


def test_no_state_and_no_grant_are_the_same_answer():
    empty = ConsentState("p1", epoch=7)
    assert ask(None, PSY) == ask(empty, PSY) == {"steps": "no_grant"}
    assert decide(empty, PSY, Question("p1", "read", ("steps",), "care_coordination", NOW),
                  POLICY).epoch == 0


@pytest.mark.parametrize(("at", "expected"), [
    (NOW - timedelta(days=2), "no_grant"), (NOW, "grant"), (NOW + timedelta(days=1), "no_grant")])
def test_the_period_is_half_open(at, expected):
    assert ask(ConsentState("p1", (grant(),)), PSY, at=at) == {"steps": expected}


def test_administrative_staff_see_identity_and_referent_only():
    state = ConsentState("p1", (grant(),))
    reasons = ask(state, ADMIN, CATEGORIES)
    assert {c for c, r in reasons.items() if r == "grant"} == {"identity", "referent"}
    assert reasons["steps"] == "policy"


def test_the_referent_sees_mental_health_episodes():
    referent = grant(grantee_kind="professional", grantee="sw-1", referent=True)
    social = Actor("sw-1", "professional", "org-cpas", "social_worker")
    assert ask(ConsentState("p1", (referent,)), social, ["mental_health_episodes"]) == {
        "mental_health_episodes": "grant"}
    assert ask(ConsentState("p1", (grant(grantee_kind="professional", grantee="sw-1"),)), social,
               ["mental_health_episodes"]) == {"mental_health_episodes": "policy"}


def test_write_needs_a_write_grant_and_a_write_rule():
    state = ConsentState("p1", (grant(),))
    assert ask(state, PSY, ["contacts"], action="write") == {"contacts": "no_grant"}
    state = ConsentState("p1", (grant(actions=frozenset({"read", "write"})),))
    assert ask(state, PSY, ["contacts", "identity"], action="write") == {
        "contacts": "grant", "identity": "policy"}


def test_a_close_one_is_not_an_organisation_member():
    close = Actor("org-ssm", "close_one")
    assert ask(ConsentState("p1", (grant(),)), close) == {"steps": "no_grant"}


def test_exclusion_beats_grant_and_emergency():
    emergency = EmergencyTerms("e1", "psy-1", frozenset({"steps"}), NOW - timedelta(hours=1),
                               NOW + timedelta(hours=1))
    state = ConsentState("p1", (grant(),), (ExclusionTerms("x1", "organisation", "org-ssm"),),
                         (emergency,))
    assert ask(state, PSY) == ask(state, PSY, purpose="emergency") == {"steps": "exclusion"}


def test_emergency_only_for_its_purpose_actor_and_hours():
    emergency = EmergencyTerms("e1", "psy-1", frozenset({"steps"}), NOW - timedelta(hours=1),
                               NOW + timedelta(hours=1))
    state = ConsentState("p1", emergencies=(emergency,))
    assert ask(state, PSY, purpose="emergency") == {"steps": "emergency"}
    assert ask(state, PSY) == {"steps": "no_grant"}
    assert ask(state, PSY, purpose="emergency", at=NOW + timedelta(hours=2)) == {"steps": "no_grant"}
    other = Actor("psy-2", "professional", "org-ssm", "psychologist")
    assert ask(state, other, purpose="emergency") == {"steps": "no_grant"}


def test_the_policy_file_is_checked(tmp_path):
    assert POLICY.version and all(code in professions() for (k, code, _a) in POLICY.rules
                                  if k == "profession")
    for code in professions().professions:
        assert POLICY.reach("profession", code), f"{code} has no row in the policy"
    mental = {c for c, p in professions().professions.items() if p.mental_health}
    for (kind, code, _action), allowed in POLICY.rules.items():
        if kind == "profession" and "mental_health_episodes" in allowed:
            assert code in mental
    with pytest.raises(ValueError, match="unknown profession"):
        parse_policy({"version": "x", "professions": {"astrologer": {"read": []}}})
    bad = {"version": "x", "professions": {"nurse": {"read": ["dreams"]}}}
    with pytest.raises(ValueError, match="unknown categories"):
        parse_policy(bad)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"version": "local-1", "professions": {"nurse": {"read": ["steps"]}}}))
    assert load_policy(str(path)).version == "local-1"
