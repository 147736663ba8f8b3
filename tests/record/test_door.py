"""The timeline answered by the door (shared/web/door.py) is the timeline its Flask view gives:
the same status, headers, body and audit event, for every kind of request, good or bad."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
from flask import Response
from werkzeug.test import Client

from .conftest import STRANGER
from .test_reading import ago, post

REQUEST_ID = {"X-Request-ID": "req-door-12345678"}
_WHEN = ("at", "recorded_at", "occurred_at")


@pytest.fixture
def journey(record, person, cm):
    for days in (5, 4, 3, 2):
        post(record, f"/beneficiaries/{person}/contacts",
             {"occurred_at": ago(days=days), "modality": "phone", "outcome": "met"}, cm)
    post(record, f"/beneficiaries/{person}/steps", {"step_kind": "social_income"}, cm)
    return person


def _audit_of_last_read(record) -> dict:
    audit = dict(record.audits()[-1])
    for key in _WHEN:
        audit.pop(key, None)
    return audit


def _both(record, path: str, headers: dict[str, str]):
    """The request through the service's app (the door first), then straight to Flask; each
    answer with the audit event it wrote."""
    count = len(record.audits())
    through_door = record.client.get(path, headers={**REQUEST_ID, **headers})
    door_audit = _audit_of_last_read(record) if len(record.audits()) > count else None
    flask_only = Client(record.app.wsgi_app.next_app, Response)
    through_flask = flask_only.get(path, headers={**REQUEST_ID, **headers})
    flask_audit = _audit_of_last_read(record) if len(record.audits()) > count + (door_audit is not None) else None
    return (through_door, door_audit), (through_flask, flask_audit)


def _same(door, flask, status: int) -> None:
    (door_answer, door_audit), (flask_answer, flask_audit) = door, flask
    assert door_answer.status_code == flask_answer.status_code == status, door_answer.get_json()
    assert dict(door_answer.headers) == dict(flask_answer.headers)
    assert door_answer.get_data() == flask_answer.get_data()
    assert door_audit == flask_audit


def test_the_door_answers_the_timeline_and_leaves_the_rest_to_flask(record, journey, cm):
    def refuse(environ, start_response):
        raise AssertionError(f"Flask was asked for {environ['PATH_INFO']}")

    record.app.wsgi_app.next_app, flask_app = refuse, record.app.wsgi_app.next_app
    assert record.client.get(f"/beneficiaries/{journey}/timeline", headers=cm).status_code == 200
    with pytest.raises(AssertionError, match="summary"):
        record.client.get(f"/beneficiaries/{journey}/summary", headers=cm)
    record.app.wsgi_app.next_app = flask_app


@pytest.mark.parametrize("query", [
    "", "?limit=2", "?order=asc&limit=3", "?category=contacts", "?category=contacts&category=steps",
    "?kind=step", "?purpose=care_coordination", "?history=true", "?limit=2&limit=3", f"?since={quote(ago(days=3))}",
])
@pytest.mark.parametrize("language", ["fr", "nl", "en;q=0.9, nl;q=0.5", ""])
def test_a_timeline_is_the_same_answer_and_the_same_audit(record, journey, cm, query, language):
    headers = {**cm, "Accept-Language": language} if language else cm
    door, flask = _both(record, f"/beneficiaries/{journey}/timeline{query}", headers)
    _same(door, flask, 200)
    assert door[1]["outcome"] == "permit"


def test_the_next_page_is_the_same(record, journey, cm):
    first = record.client.get(f"/beneficiaries/{journey}/timeline?limit=2", headers=cm).get_json()
    door, flask = _both(record, f"/beneficiaries/{journey}/timeline?limit=2&cursor={first['next_cursor']}", cm)
    _same(door, flask, 200)


@pytest.mark.parametrize("query", [
    "?cursor=not-a-cursor", "?limit=0", "?limit=many", "?category=dreams", "?kind=opinion",
    "?since=yesterday", "?since=2026-12-01", "?purpose=curiosity", "?order=random", "?colour=red",
])
def test_a_bad_query_is_the_same_422(record, journey, cm, query):
    door, flask = _both(record, f"/beneficiaries/{journey}/timeline{query}", cm)
    _same(door, flask, 422)


def test_refusals_are_the_same(record, journey, cm):
    path = f"/beneficiaries/{journey}/timeline"
    _same(*_both(record, path, {}), 401)
    _same(*_both(record, path, {"Authorization": "Bearer not-a-token"}), 401)
    _same(*_both(record, path, record.as_("cm-1", scopes="record:write", org="org-cpas",
                                          profession="case_manager")), 403)
    stranger = record.as_("x-1", **STRANGER)
    not_allowed = _both(record, path, stranger)
    _same(*not_allowed, 404)
    nobody = _both(record, f"/beneficiaries/{uuid.uuid4()}/timeline", stranger)
    _same(*nobody, 404)
    assert not_allowed[0][0].get_json()["detail"] == nobody[0][0].get_json()["detail"]
    assert not_allowed[0][1]["outcome"] == nobody[0][1]["outcome"] == "deny"


def test_a_request_id_is_made_when_none_is_given(record, journey, cm):
    answer = record.client.get(f"/beneficiaries/{journey}/timeline", headers=cm)
    assert uuid.UUID(answer.headers["X-Request-ID"])
    assert record.audits()[-1]["request_id"] == answer.headers["X-Request-ID"]
