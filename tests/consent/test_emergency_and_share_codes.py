"""Emergency access, share codes and representatives."""

from __future__ import annotations

import uuid

from tests.consent.conftest import CASE_MANAGER

ER_DOCTOR = {"org": "org-hospital", "profession": "general_practitioner"}
NEWCOMER = {"org": "org-shelter", "profession": "shelter_worker"}


def decide(consent, person, categories, who, claims, purpose="care_coordination"):
    response = consent.client.post("/decisions", json={
        "beneficiary_id": person, "categories": categories, "purpose": purpose},
        headers=consent.as_(who, **claims))
    return {c["category"]: (c["decision"], c["reason"]) for c in response.get_json()["categories"]}


def open_emergency(consent, person, who="er-1", claims=ER_DOCTOR, **body):
    payload = {"reason_code": "medical_emergency", "categories": ["identity", "contacts",
                                                                  "mental_health_episodes"],
               "hours": 4, **body}
    return consent.client.post(f"/beneficiaries/{person}/emergency-access", json=payload,
                               headers=consent.as_(who, **claims))


def test_emergency_access_is_limited_audited_and_announced(consent, person):
    assert decide(consent, person, ["contacts"], "er-1", ER_DOCTOR, "emergency") == {
        "contacts": ("deny", "no_grant")}
    opened = open_emergency(consent, person)
    assert opened.status_code == 201
    verdict = decide(consent, person, ["contacts", "mental_health_episodes", "steps"], "er-1",
                     ER_DOCTOR, "emergency")
    # within the categories asked and within the policy (a GP does not see psychiatric stays)
    assert verdict == {"contacts": ("permit", "emergency"),
                       "mental_health_episodes": ("deny", "no_grant"),
                       "steps": ("deny", "no_grant")}
    events = consent.outbox_events()
    announced = [e for e in events if e.type == "consent.emergency_opened"]
    assert announced and announced[0].payload["severity"] == "high"
    assert announced[0].payload["reason_code"] == "medical_emergency"
    audits = [e.payload for e in events if e.type == "audit.access_recorded"
              and e.payload["action"] == "emergency.open"]
    assert audits[-1]["purpose"] == "emergency" and audits[-1]["reason"] == "break_glass:medical_emergency"


def test_emergency_never_overrides_an_exclusion(consent, person):
    consent.client.post(f"/beneficiaries/{person}/exclusions",
                        json={"kind": "organisation", "target": "org-hospital"},
                        headers=consent.as_("cm-1", **CASE_MANAGER))
    refused = open_emergency(consent, person)
    nobody = open_emergency(consent, str(uuid.uuid4()))
    assert refused.status_code == nobody.status_code == 404
    assert decide(consent, person, ["contacts"], "er-1", ER_DOCTOR, "emergency") == {
        "contacts": ("deny", "exclusion")}


def test_emergency_input_is_checked(consent, person):
    assert open_emergency(consent, person, hours=48).get_json()["errors"][0]["field"] == "hours"
    assert open_emergency(consent, person, reason_code="curious").get_json()["errors"][0]["field"] == "reason_code"


def test_a_share_code_gives_the_chosen_grant_once(consent, person):
    created = consent.client.post(f"/beneficiaries/{person}/share-codes",
                                  json={"categories": ["steps", "contacts"], "days": 30},
                                  headers=consent.as_("cm-1", **CASE_MANAGER))
    assert created.status_code == 201
    code = created.get_json()["code"]
    assert len(code) == 9 and code[4] == "-"
    redeemed = consent.client.post("/share-codes/redeem", json={"code": code.lower()},
                                   headers=consent.as_("sh-1", **NEWCOMER))
    assert redeemed.status_code == 201
    body = redeemed.get_json()
    assert body["beneficiary_id"] == person and body["grant"]["method"] == "share_code"
    assert decide(consent, person, ["steps"], "sh-1", NEWCOMER) == {"steps": ("permit", "grant")}
    again = consent.client.post("/share-codes/redeem", json={"code": code},
                                headers=consent.as_("sh-2", **NEWCOMER))
    assert again.status_code == 404


def test_guessing_share_codes_is_limited(consent, person):
    guesser = consent.as_("sh-9", **NEWCOMER)
    answers = [consent.client.post("/share-codes/redeem", json={"code": f"ABCD-{n:04d}"},
                                   headers=guesser).status_code for n in range(6)]
    assert answers == [404] * 5 + [429]
    # even the right code is refused once the limit is reached
    code = consent.client.post(f"/beneficiaries/{person}/share-codes", json={"categories": ["steps"]},
                               headers=consent.as_("cm-1", **CASE_MANAGER)).get_json()["code"]
    assert consent.client.post("/share-codes/redeem", json={"code": code},
                               headers=guesser).status_code == 429


def test_an_expired_share_code_is_refused(tmp_path):
    from tests.support.consent_app import make_consent

    harness = make_consent(tmp_path, env={"CONSENT_SHARE_CODE_MINUTES": "0"})
    cm = harness.as_("cm-1", **CASE_MANAGER)
    person = harness.client.post("/beneficiaries", headers=cm).get_json()["id"]
    code = harness.client.post(f"/beneficiaries/{person}/share-codes", json={"categories": ["steps"]},
                               headers=cm).get_json()["code"]
    assert harness.client.post("/share-codes/redeem", json={"code": code},
                               headers=harness.as_("sh-1", **NEWCOMER)).status_code == 404
    harness.engine.dispose()


def test_a_representative_manages_grants_but_not_their_own(consent, person):
    cm = consent.as_("cm-1", **CASE_MANAGER)
    given = consent.client.post(f"/beneficiaries/{person}/grants", json={
        "grantee_kind": "close_one", "grantee": "brother-1", "categories": ["steps"],
        "powers": ["manage"], "valid_until": "2099-01-01T00:00:00+00:00"}, headers=cm)
    assert given.status_code == 201
    brother = consent.as_("brother-1", role="close_one")
    for_doctor = consent.client.post(f"/beneficiaries/{person}/grants", json={
        "grantee_kind": "professional", "grantee": "gp-1", "categories": ["contacts"]}, headers=brother)
    assert for_doctor.status_code == 201 and for_doctor.get_json()["method"] == "self_service"
    widen = consent.client.post(f"/beneficiaries/{person}/grants", json={
        "grantee_kind": "close_one", "grantee": "brother-1", "categories": ["identity"]}, headers=brother)
    assert widen.status_code == 403
    unbounded = consent.client.post(f"/beneficiaries/{person}/grants", json={
        "grantee_kind": "close_one", "grantee": "aunt-1", "categories": ["steps"],
        "powers": ["manage"]}, headers=cm)
    assert unbounded.status_code == 422 and unbounded.get_json()["errors"][0]["field"] == "valid_until"
