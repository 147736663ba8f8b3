"""Every error path of a service answers application/problem+json; checked on the record app."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from joserfc import jwk, jwt
from joserfc.jwk import KeySet

from services.record.app import create_app
from shared.auth import StaticKeySource
from shared.config import load_settings
from shared.db.engine import dispose_engines
from shared.db.migrations import upgrade
from tests.unit import tokens

PROBLEM = "application/problem+json"
BENEFICIARY = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
CONTACTS = f"/beneficiaries/{BENEFICIARY}/contacts"
TIMELINE = f"/beneficiaries/{BENEFICIARY}/timeline"
VALID_CONTACT = {"occurred_at": "2025-01-10T09:30:00+01:00", "modality": "phone", "outcome": "met"}


@pytest.fixture
def key():
    return jwk.ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "sig", "alg": "ES256"})


def _grant_org_1(database_url):
    """The person gave org-1 access to their contacts (as record's projection learns it)."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from services.record.adapters.orm import projection
    from shared.consent import events
    from shared.consent.decision import GrantTerms

    terms = GrantTerms("g-1", 1, "organisation", "org-1", frozenset({"contacts"}), "care_coordination",
                       frozenset({"read", "write"}), datetime(2024, 1, 1, tzinfo=UTC), None)
    engine = create_engine(database_url)
    with Session(engine) as session, session.begin():
        projection.apply(session, events.GRANT_GIVEN, events.grant_given(BENEFICIARY, terms, 1))
    engine.dispose()


def _make_app(tmp_path, key, **extra_env):
    settings = load_settings("record", environ={"RELAIS_VAR_DIR": str(tmp_path), **extra_env})
    upgrade("record", settings.database_url)
    _grant_org_1(settings.database_url)
    app = create_app(settings=settings, keys=StaticKeySource(KeySet([key])))
    app.config["TESTING"] = False  # errors must go through the handlers, as in production
    return app, settings


@pytest.fixture
def record(tmp_path, key):
    app, settings = _make_app(tmp_path, key)
    yield app, settings
    dispose_engines()


@pytest.fixture
def app(record):
    return record[0]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_token(record, key):
    settings = record[1]

    def make(scope="record:read record:write", header=None, **overrides):
        now = int(time.time())
        claims = {
            "iss": settings.issuer,
            "aud": ["urn:relais:record"],
            "sub": "user-1",
            "jti": str(uuid.uuid4()),
            "client_id": "web",
            "exp": now + 300,
            "iat": now,
            "scope": scope,
            "org": "org-1",
            "profession": "social_worker",
            "role": "professional",
        }
        claims.update(overrides)
        return jwt.encode(header or {"alg": "ES256", "kid": "k1", "typ": "at+jwt"}, claims, key)

    return make


@pytest.fixture
def auth(make_token):
    return {"Authorization": f"Bearer {make_token()}"}


def assert_problem(response, status, slug, title=None):
    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM
    body = json.loads(response.get_data(as_text=True))
    assert body["type"] == f"urn:relais:problem:{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    if title is not None:
        assert body["title"] == title
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert 'File "' not in text
    assert response.headers["Cache-Control"] == "no-store"
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_404_unknown_path(client):
    body = assert_problem(
        client.get("/nothing/here"), 404, "not-found", "Nothing was found at this address"
    )
    assert body["detail"]


def test_404_beneficiary_id_that_is_not_a_uuid(client, auth):
    assert_problem(client.get("/beneficiaries/not-a-uuid/timeline", headers=auth), 404, "not-found")


def test_405_keeps_the_allow_header(client, auth):
    response = client.delete(CONTACTS, headers=auth)
    assert_problem(response, 405, "method-not-allowed", "This method is not allowed here")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "POST" in allowed
    assert "DELETE" not in allowed


def test_405_wins_over_a_bad_body(client):
    response = client.put(CONTACTS, data="not json", content_type="text/plain")
    assert_problem(response, 405, "method-not-allowed")


def test_413_body_over_the_default_limit(client, auth):
    body = json.dumps({"pad": "x" * 70_000})
    response = client.post(CONTACTS, data=body, content_type="application/json", headers=auth)
    problem = assert_problem(response, 413, "body-too-large", "The request body is too large")
    assert "65536" in problem["detail"]


def test_413_with_a_smaller_limit_from_the_environment(tmp_path, key):
    app, _ = _make_app(tmp_path, key, RELAIS_MAX_BODY_BYTES="100")
    try:
        client = app.test_client()
        response = client.post(
            CONTACTS, data=json.dumps({"pad": "x" * 200}), content_type="application/json"
        )
        problem = assert_problem(response, 413, "body-too-large")
        assert "100 bytes" in problem["detail"]
        # Just under the limit is not refused for its size (it is then judged on its content).
        small = client.post(CONTACTS, data="{" + " " * 98 + "}", content_type="application/json")
        assert small.status_code != 413
    finally:
        dispose_engines()


def test_415_text_plain_body(client, auth):
    response = client.post(CONTACTS, data="hello", content_type="text/plain", headers=auth)
    problem = assert_problem(
        response, 415, "unsupported-media-type", "The request body must be JSON"
    )
    assert "text/plain" in problem["detail"]


def test_415_body_without_content_type(client, auth):
    response = client.post(CONTACTS, data=b'{"a": 1}', headers=auth)
    assert_problem(response, 415, "unsupported-media-type")


def test_400_malformed_json(client, auth):
    response = client.post(
        CONTACTS, data='{"occurred_at": ', content_type="application/json", headers=auth
    )
    assert_problem(response, 400, "malformed-json", "The request body is not valid JSON")


def test_400_body_that_is_not_utf8(client, auth):
    response = client.post(
        CONTACTS, data=b"\xff\xfe{", content_type="application/json", headers=auth
    )
    assert_problem(response, 400, "malformed-json")


def _errors(body):
    return {error["field"]: error for error in body["errors"]}


def test_422_missing_fields_are_each_named(client, auth):
    response = client.post(CONTACTS, json={}, headers=auth)
    body = assert_problem(response, 422, "validation-error", "The request has invalid fields")
    errors = _errors(body)
    assert set(errors) == {"occurred_at", "modality", "outcome"}
    for error in errors.values():
        assert error["in"] == "json"
        assert error["message"]


def test_422_unknown_field(client, auth):
    response = client.post(
        CONTACTS, json={**VALID_CONTACT, "free_text": "said a lot"}, headers=auth
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [{"field": "free_text", "message": "Unknown field.", "in": "json"}]


def test_422_wrong_type(client, auth):
    response = client.post(
        CONTACTS, json={**VALID_CONTACT, "duration_minutes": "twenty"}, headers=auth
    )
    body = assert_problem(response, 422, "validation-error")
    errors = _errors(body)
    assert list(errors) == ["duration_minutes"]
    assert errors["duration_minutes"]["in"] == "json"


def test_422_code_outside_the_vocabulary(client, auth):
    response = client.post(
        CONTACTS, json={**VALID_CONTACT, "modality": "telepathy", "outcome": "maybe"}, headers=auth
    )
    body = assert_problem(response, 422, "validation-error")
    errors = _errors(body)
    assert set(errors) == {"modality", "outcome"}
    assert "phone" in errors["modality"]["message"]


def test_422_naive_occurred_at(client, auth):
    response = client.post(
        CONTACTS, json={**VALID_CONTACT, "occurred_at": "2025-01-10T09:30:00"}, headers=auth
    )
    body = assert_problem(response, 422, "validation-error")
    assert list(_errors(body)) == ["occurred_at"]


def test_422_future_occurred_at(client, auth):
    response = client.post(
        CONTACTS, json={**VALID_CONTACT, "occurred_at": "2999-01-01T00:00:00+00:00"}, headers=auth
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [
        {
            "field": "occurred_at",
            "message": "Cannot be in the future: it already happened.",
            "in": "json",
        }
    ]


def test_422_query_parameter_is_located_in_the_query(client, auth):
    response = client.get(f"{TIMELINE}?limit=many", headers=auth)
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "limit"
    assert body["errors"][0]["in"] == "query"


def test_valid_contact_is_created_and_read_back(client, auth):
    response = client.post(CONTACTS, json=VALID_CONTACT, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert created["data"]["modality"] == "phone"
    assert created["author"] == {"organisation": "org-1", "profession": "social_worker", "masked": False}
    timeline = client.get(TIMELINE, headers=auth)
    assert timeline.status_code == 200
    assert [item["id"] for item in timeline.get_json()["items"]] == [created["id"]]


def test_401_without_token_keeps_www_authenticate(client):
    response = client.post(CONTACTS, json=VALID_CONTACT)
    assert_problem(response, 401, "invalid-token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_401_wrong_scheme(client):
    response = client.get(TIMELINE, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(response, 401, "invalid-token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_401_expired_token(client, make_token):
    token = make_token(exp=int(time.time()) - 3600, iat=int(time.time()) - 4000)
    response = client.get(TIMELINE, headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 401, "invalid-token")
    assert "expired" in body["detail"]


def test_401_token_for_another_service(client, make_token):
    token = make_token(aud=["urn:relais:consent"])
    response = client.get(TIMELINE, headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "invalid-token")


def test_401_token_whose_typ_header_is_not_a_string(client, record, key):
    # The header is read before the signature is checked, so anyone can send this.
    claims = tokens.claims_for(record[1].issuer)
    token = tokens.sign_es256_raw({"alg": "ES256", "kid": "k1", "typ": 1}, claims, key)
    response = client.get(TIMELINE, headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "invalid-token")


def test_403_insufficient_scope(client, make_token):
    token = make_token(scope="record:read")
    response = client.post(
        CONTACTS, json=VALID_CONTACT, headers={"Authorization": f"Bearer {token}"}
    )
    body = assert_problem(response, 403, "insufficient-scope")
    assert "record:write" in body["detail"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_500_unexpected_exception_has_request_id_and_no_trace(app):
    @app.get("/explode")
    def explode():
        raise RuntimeError("database password=hunter2 leaked in a message")

    response = app.test_client().get("/explode", headers={"X-Request-ID": "trace-me-12345"})
    body = assert_problem(response, 500, "internal-error", "Something went wrong on our side")
    assert body["request_id"] == "trace-me-12345"
    text = response.get_data(as_text=True)
    assert "RuntimeError" not in text
    assert "hunter2" not in text
    assert "explode" not in text


def test_request_id_is_echoed_when_valid(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123_DEF.456"})
    assert response.headers["X-Request-ID"] == "abc-123_DEF.456"


def test_request_id_is_in_the_problem_body(client):
    response = client.get("/nothing", headers={"X-Request-ID": "my-request-0001"})
    assert response.get_json(force=True)["request_id"] == "my-request-0001"


def test_request_id_is_made_when_absent(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert uuid.UUID(first) and uuid.UUID(second)
    assert first != second


@pytest.mark.parametrize(
    "incoming",
    [
        "x" * 500,
        "short",
        "has spaces in it",
        "semi;colon-12345",
        "bad\nid-12345678",
        "abcdefgh12\n",
        "abcdefgh12\r\n",
    ],
)
def test_malformed_request_id_is_replaced(client, incoming):
    # environ_base lets a header value through that the test client itself would refuse.
    response = client.get("/healthz", environ_base={"HTTP_X_REQUEST_ID": incoming})
    assert response.status_code == 200
    replaced = response.headers["X-Request-ID"]
    assert replaced != incoming
    assert uuid.UUID(replaced)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Relais record"
    paths = document["paths"]
    assert "post" in paths["/beneficiaries/{beneficiary_id}/contacts"]
    assert "get" in paths["/beneficiaries/{beneficiary_id}/timeline"]
    assert "bearer" in document["components"]["securitySchemes"]
