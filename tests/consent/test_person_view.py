"""The person's own view: plain-language grants, withdrawal, blocking, receipts verified
offline, export and erasure."""

from __future__ import annotations

import pytest
from joserfc.errors import JoseError
from sqlalchemy import text

from services.consent.adapters.receipts import verify_receipt
from tests.consent.conftest import CASE_MANAGER


def me(consent, person):
    return consent.as_("person-login-1", role="beneficiary", beneficiary=person, scopes="self")


def test_status_and_grants_in_plain_words(consent, person):
    status = consent.client.get("/me", headers=me(consent, person)).get_json()
    assert status["id"] == person and status["active_grants"] == 1
    for language, words in (("nl", "De dienst org-cpas kan zien en noteren"),
                            ("en", "The service org-cpas can see and record"),
                            ("fr", "Le service org-cpas peut voir et noter")):
        grants = consent.client.get("/me/grants", headers={**me(consent, person),
                                                           "Accept-Language": f"{language},en;q=0.5"})
        assert grants.get_json()["items"][0]["description"].startswith(words)


def test_the_person_withdraws_and_blocks(consent, person):
    grant_id = consent.client.get("/me/grants", headers=me(consent, person)).get_json()["items"][0]["grant_id"]
    withdrawn = consent.client.post(f"/me/grants/{grant_id}/revoke", headers=me(consent, person))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["grant"]["status"] == "revoked"
    blocked = consent.client.post("/me/exclusions", json={"kind": "professional", "target": "cm-1"},
                                  headers=me(consent, person))
    assert blocked.status_code == 201
    # the case manager no longer even learns that the person exists
    assert consent.client.get(f"/beneficiaries/{person}",
                              headers=consent.as_("cm-1", **CASE_MANAGER)).status_code == 404


def test_someone_else_s_record_is_not_mine(consent, person):
    other = consent.client.post("/beneficiaries", headers=consent.as_("cm-1", **CASE_MANAGER)).get_json()["id"]
    grant_id = consent.client.get("/me/grants", headers=me(consent, other)).get_json()["items"][0]["grant_id"]
    assert consent.client.post(f"/me/grants/{grant_id}/revoke",
                               headers=me(consent, person)).status_code == 404
    professional = consent.as_("cm-1", scopes="self", **CASE_MANAGER)
    assert consent.client.get("/me", headers=professional).status_code == 403


def test_receipts_are_signed_and_verify_offline(consent, person):
    receipts = consent.client.get("/me/receipts", headers=me(consent, person)).get_json()["items"]
    assert [r["kind"] for r in receipts] == ["consent_given"]
    jwks = consent.client.get("/receipts/keys").get_json()
    assert "d" not in jwks["keys"][0]
    claims = verify_receipt(receipts[0]["jws"], jwks)
    assert claims["piiPrincipalId"] == person and claims["collectionMethod"] == "in_person"
    assert claims["policyVersion"] and claims["services"][0]["purposes"][0]["piiCategory"]
    one = consent.client.get(f"/me/receipts/{receipts[0]['id']}", headers=me(consent, person))
    assert one.status_code == 200
    tampered = receipts[0]["jws"].split(".")
    tampered[1] = tampered[1][:-4] + ("AAAA" if tampered[1][-4:] != "AAAA" else "BBBB")
    with pytest.raises(JoseError):
        verify_receipt(".".join(tampered), jwks)


def test_export_holds_everything_about_me(consent, person):
    document = consent.client.get("/me/export", headers=me(consent, person)).get_json()
    assert document["identity"]["given_name"] == "Amina"
    assert document["grants"][0][0]["grantee"] == "org-cpas"
    assert document["receipts"] and document["policy_version"]


def test_erasure_destroys_the_key_and_tells_everyone(consent, person):
    erased = consent.client.post("/me/erasure", headers=me(consent, person))
    assert erased.status_code == 200
    with consent.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM data_keys")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM identities")).scalar_one() == 0
    events = [e for e in consent.outbox_events() if e.type == "consent.beneficiary_erased"]
    assert events and events[0].payload["beneficiary_id"] == person
    assert consent.client.get("/me", headers=me(consent, person)).status_code == 404
    decision = consent.client.post("/decisions", json={"beneficiary_id": person, "categories": ["steps"]},
                                   headers=consent.as_("cm-1", **CASE_MANAGER)).get_json()
    assert decision["categories"][0]["decision"] == "deny"


def test_who_can_see_me_joins_grants_with_the_policy(consent, person):
    consent.client.post(f"/beneficiaries/{person}/grants", json={
        "grantee_kind": "organisation", "grantee": "org-ssm",
        "categories": ["mental_health_episodes", "steps"]},
        headers=consent.as_("cm-1", org="org-cpas", profession="case_manager"))
    items = consent.client.get("/me/reach", headers={**me(consent, person),
                                                     "Accept-Language": "en"}).get_json()["items"]
    ssm = next(i for i in items if i["grantee"] == "org-ssm")
    assert sorted(ssm["can_see"]["Psychologist"]) == ["your mental-health stays", "your steps"]
    assert ssm["can_see"]["Housing support worker"] == ["your steps"]
    assert "Administrative staff" not in ssm["can_see"]
    consent.client.post("/me/exclusions", json={"kind": "organisation", "target": "org-ssm"},
                        headers=me(consent, person))
    items = consent.client.get("/me/reach", headers=me(consent, person)).get_json()["items"]
    assert all(i["grantee"] != "org-ssm" for i in items)


def test_the_person_lists_whom_they_blocked_and_the_emergency_accesses(consent, person):
    assert consent.client.get("/me/exclusions", headers=me(consent, person)).get_json() == {"items": []}
    consent.client.post("/me/exclusions", json={"kind": "organisation", "target": "org-ssm"},
                        headers=me(consent, person))
    blocked = consent.client.get("/me/exclusions", headers=me(consent, person)).get_json()["items"]
    assert [(x["kind"], x["target"], x["lifted_at"]) for x in blocked] == [("organisation", "org-ssm", None)]
    assert consent.client.get("/me/emergencies", headers=me(consent, person)).get_json() == {"items": []}
    opened = consent.client.post(f"/beneficiaries/{person}/emergency-access",
                                 json={"reason_code": "medical_emergency", "categories": ["steps"], "hours": 2},
                                 headers=consent.as_("er-doctor", role="professional", org="org-hospital",
                                                     profession="physician"))
    assert opened.status_code == 201, opened.get_json()
    items = consent.client.get("/me/emergencies", headers=me(consent, person)).get_json()["items"]
    assert [(e["organisation"], e["profession"], e["reason_code"], e["categories"]) for e in items] == [
        ("org-hospital", "physician", "medical_emergency", ["steps"])]
    other = consent.client.post("/beneficiaries", headers=consent.as_("cm-1", **CASE_MANAGER)).get_json()["id"]
    assert consent.client.get("/me/emergencies", headers=me(consent, other)).get_json() == {"items": []}
