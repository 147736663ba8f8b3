"""Registration, sealed identity, national-number lookup and "declining leaves no trace"."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.consent.conftest import CASE_MANAGER, NATIONAL_NUMBER


def test_registration_gives_the_organisation_a_first_grant(consent, person):
    grants = consent.client.get(f"/beneficiaries/{person}/grants",
                                headers=consent.as_("cm-2", **CASE_MANAGER)).get_json()["items"]
    assert len(grants) == 1
    assert grants[0]["grantee_kind"] == "organisation" and grants[0]["grantee"] == "org-cpas"
    assert grants[0]["method"] == "in_person" and grants[0]["witness"] == "cm-1"
    assert "mental_health_episodes" not in grants[0]["categories"]


def test_identity_is_stored_encrypted_and_read_back_by_an_allowed_actor(consent, person):
    with consent.engine.connect() as connection:
        blob = connection.execute(text("SELECT ciphertext FROM identities")).scalar_one()
        index = connection.execute(text("SELECT national_number_index FROM identities")).scalar_one()
    assert b"Amina" not in blob and b"80050412317" not in blob
    assert "80050412317" not in index and len(index) == 64
    identity = consent.client.get(f"/beneficiaries/{person}/identity",
                                  headers=consent.as_("cm-1", **CASE_MANAGER))
    assert identity.status_code == 200
    assert identity.get_json()["given_name"] == "Amina"
    assert identity.get_json()["national_number"] == "80050412317"


def test_lookup_by_national_number_only_for_someone_with_a_grant(consent, person):
    found = consent.client.post("/beneficiaries/lookup", json={"national_number": NATIONAL_NUMBER},
                                headers=consent.as_("cm-1", **CASE_MANAGER))
    assert found.status_code == 200 and found.get_json() == {"id": person}
    stranger = consent.as_("sw-9", org="org-other", profession="social_worker")
    hidden = consent.client.post("/beneficiaries/lookup", json={"national_number": NATIONAL_NUMBER},
                                 headers=stranger)
    missing = consent.client.post("/beneficiaries/lookup", json={"national_number": "90010100123"},
                                  headers=stranger)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["detail"] == missing.get_json()["detail"]


def test_an_anonymous_person_has_a_pseudonym_and_no_identity(consent):
    response = consent.client.post("/beneficiaries", headers=consent.as_("cm-1", **CASE_MANAGER))
    assert response.status_code == 201
    body = response.get_json()
    assert body["anonymous"] is True and uuid.UUID(body["id"])
    identity = consent.client.get(f"/beneficiaries/{body['id']}/identity",
                                  headers=consent.as_("cm-1", **CASE_MANAGER)).get_json()
    assert set(identity.values()) == {None}


def test_existing_without_grant_and_non_existing_answer_the_same(consent, person):
    stranger = consent.as_("sw-9", org="org-other", profession="social_worker")
    for path in ("", "/grants", "/identity"):
        hidden = consent.client.get(f"/beneficiaries/{person}{path}", headers=stranger)
        missing = consent.client.get(f"/beneficiaries/{uuid.uuid4()}{path}", headers=stranger)
        assert hidden.status_code == missing.status_code == 404
        assert {k: v for k, v in hidden.get_json().items() if k != "request_id"} == \
               {k: v for k, v in missing.get_json().items() if k != "request_id"}


def test_the_same_national_number_cannot_be_registered_twice(consent, person):
    again = consent.client.post("/beneficiaries",
                                json={"identity": {"national_number": NATIONAL_NUMBER}},
                                headers=consent.as_("sw-9", org="org-other", profession="social_worker"))
    assert again.status_code == 403


def test_registration_is_audited_and_published_without_identity(consent, person):
    events = consent.outbox_events()
    types = [e.type for e in events]
    assert "consent.beneficiary_registered" in types and "consent.grant_given" in types
    assert "audit.access_recorded" in types
    for event in events:
        assert "Amina" not in str(event.payload) and "80050412317" not in str(event.payload)


def test_registration_records_how_long_the_person_agreed(consent):
    headers = consent.as_("cm-1", **CASE_MANAGER)
    registered = consent.client.post("/beneficiaries", json={
        "categories": ["contacts", "steps"], "method": "signed_form", "form_reference": "F-2026-118",
        "valid_until": "2027-06-30T00:00:00+02:00"}, headers=headers)
    assert registered.status_code == 201, registered.get_json()
    assert registered.get_json()["enforcement"] is None  # nobody asked to wait
    person = registered.get_json()["id"]
    grant = consent.client.get(f"/beneficiaries/{person}/grants", headers=headers).get_json()["items"][0]
    assert grant["valid_until"].startswith("2027-06-29T22:00:00")
    assert grant["method"] == "signed_form" and grant["form_reference"] == "F-2026-118"
    assert grant["categories"] == ["contacts", "steps"]


def test_a_registration_that_would_end_before_it_starts_is_refused_on_its_field(consent):
    refused = consent.client.post("/beneficiaries", json={"valid_until": "2020-01-01T00:00:00+00:00"},
                                  headers=consent.as_("cm-1", **CASE_MANAGER))
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["valid_until"]
    unknown = consent.client.post("/beneficiaries?hurry=1", headers=consent.as_("cm-1", **CASE_MANAGER))
    assert unknown.status_code == 422


def test_waiting_with_no_projection_to_wait_for_is_confirmed_at_once(consent):
    registered = consent.client.post("/beneficiaries?wait=true", headers=consent.as_("cm-1", **CASE_MANAGER))
    assert registered.status_code == 201
    assert registered.get_json()["enforcement"]["confirmed"] is True


def test_the_policy_says_what_a_registration_grants_by_default(consent):
    policy = consent.client.get("/policy").get_json()
    assert "contacts" in policy["registration_defaults"]
    assert "mental_health_episodes" not in policy["registration_defaults"]
