"""The person's pages that join two services. "Who can see my record" joins the consent API's
grants with the audit API's access history: each access says how often it was used and when
last. The home page adds what the alerts API says to the person. Without the audit or the
alerts service, each page still shows the rest."""

from __future__ import annotations

import pytest

from services.gateway.web import guards, person, service_calls
from services.gateway.web.person import uses_of_grants
from services.gateway.web.service_calls import ServiceError, ServiceUnavailable

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


@pytest.mark.parametrize("failure", [ServiceUnavailable("audit"),  # not answering, or a 5xx
                                     ServiceError("audit", 403)])
def test_without_the_audit_service_the_page_still_lists_who_can_see(http, monkeypatch, signed_in_person,
                                                                   failure):
    def away():
        raise failure

    monkeypatch.setattr(service_calls, "get", answers(away))
    answer = http.get("/me/access", headers={"Accept-Language": "en"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "The service cpas-x can see" in page and "Withdraw this access" in page
    assert "cannot be shown just now" in page and "times, the last on" not in page
    assert person.uses_of_grants([]) == {}


STATUS = {"registered_at": "2026-11-01T09:00:00+00:00", "active_grants": 1, "exclusions": 0,
          "open_emergency_accesses": 0, "anonymous": False}


def test_the_home_page_stands_without_the_alerts_service(http, monkeypatch, signed_in_person):
    def get(service, path, **_):
        if (service, path) == ("consent", "/me"):
            return STATUS
        if (service, path) == ("alerts", "/me/alerts"):
            raise ServiceUnavailable("alerts")
        raise AssertionError(f"unexpected call {service} {path}")

    monkeypatch.setattr(service_calls, "get", get)
    answer = http.get("/me", headers={"Accept-Language": "en"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "1</strong> access is open" in page and "Someone will get in touch" not in page


def test_the_home_page_shows_what_the_alerts_service_says_in_the_page_language(
        http, monkeypatch, signed_in_person):
    said = {"asked_at": "2026-12-01T08:00:00+00:00", "message_code": "someone_asked",
            "message": "Une personne de votre réseau a été invitée à prendre de vos nouvelles."}
    monkeypatch.setattr(service_calls, "get", lambda service, path, **_: (
        STATUS if service == "consent" else {"items": [said]}))
    page = http.get("/me", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Quelqu’un va prendre contact" in page and said["message"] in page
    assert "Demandé le 1 décembre 2026." in page
