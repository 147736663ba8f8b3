"""'Who can see my record' joins the consent API's grants with the audit API's access history:
each access says how often it was used and when last; without the audit service the page still
says who can see."""

from __future__ import annotations

import pytest

from services.gateway.web import guards, person, service_calls
from services.gateway.web.person import uses_of_grants
from services.gateway.web.service_calls import ServiceError

GRANT = {"grant_id": "g-1", "status": "active", "grantee_kind": "organisation", "grantee": "cpas-x",
         "categories": ["contacts"], "valid_until": None, "description": "The service cpas-x can see"}


def access(grant_id, when, *, outcome="permit", role="professional"):
    return {"consent": {"grant_id": grant_id, "version": 1}, "when": when, "outcome": outcome,
            "role": role}


def test_each_grant_counts_the_accesses_of_others_it_let_through_and_the_last_one():
    used = uses_of_grants([
        access("g-1", "2026-11-30T10:00:00+00:00"),
        access("g-1", "2026-12-01T09:00:00+00:00"),
        access("g-1", "2026-11-29T08:00:00+00:00"),
        access("g-1", "2026-12-01T11:00:00+00:00", outcome="deny"),      # refused: not a use
        access("g-1", "2026-12-01T12:00:00+00:00", role="beneficiary"),  # the person's own look
        access("g-2", "2026-11-01T00:00:00+00:00"),
        {"consent": None, "when": "2026-12-01T13:00:00+00:00", "outcome": "permit", "role": "auditor"},
    ])
    assert used == {"g-1": {"count": 3, "last": "2026-12-01T09:00:00+00:00"},
                    "g-2": {"count": 1, "last": "2026-11-01T00:00:00+00:00"}}


@pytest.fixture
def signed_in_person(monkeypatch):
    monkeypatch.setattr(guards, "current_user",
                        lambda: {"role": "beneficiary", "subject": "u-1", "beneficiary_id": "b-1"})


def answers(audit):
    def get(service, path, **_):
        if service == "consent" and path == "/me/grants":
            return {"items": [GRANT]}
        if service == "consent" and path == "/me/reach":
            return {"items": []}
        if service == "audit" and path == "/me/accesses":
            return audit()
        raise AssertionError(f"unexpected call {service} {path}")
    return get


def test_the_page_says_how_often_and_when_each_access_was_used(http, monkeypatch, signed_in_person):
    monkeypatch.setattr(service_calls, "get", answers(lambda: {"accesses": [
        access("g-1", "2026-11-30T10:00:00+00:00"), access("g-1", "2026-12-01T09:00:00+00:00")]}))
    page = http.get("/me/access", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2 times, the last on December 1, 2026" in page
    assert 'href="/me/looked"' in page


def test_an_access_not_used_yet_says_so(http, monkeypatch, signed_in_person):
    monkeypatch.setattr(service_calls, "get", answers(lambda: {"accesses": []}))
    page = http.get("/me/access", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "pas encore" in page


def test_without_the_audit_service_the_page_still_lists_who_can_see(http, monkeypatch, signed_in_person):
    def away():
        raise ServiceError("audit", 503)

    monkeypatch.setattr(service_calls, "get", answers(away))
    answer = http.get("/me/access", headers={"Accept-Language": "en"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "The service cpas-x can see" in page and "Withdraw this access" in page
    assert "cannot be shown just now" in page and "times, the last on" not in page
    assert person.uses_of_grants([]) == {}
