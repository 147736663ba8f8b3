"""The door itself: what is forwarded and what is not, limits, headers, errors, the API docs."""

from __future__ import annotations

import io

import pytest

from services.gateway.api.docs import merge_documents
from shared.config import load_settings
from tests.gateway.conftest import ISSUER
from tests.support import gateway_tokens as forge


@pytest.fixture
def token(app) -> str:
    return forge.signed(app.extensions["relais.keys"].signing_key(), forge.claims(ISSUER))


def test_internal_headers_from_outside_never_reach_a_service_and_never_come_back(http, token):
    response = http.post(
        "/api/v1/record/beneficiaries/x/contacts?a=1&a=2",
        json={"modality": "phone"},
        headers={
            "Authorization": f"Bearer {token}",
            "X-Relais-Actor": "admin",
            "x-relais-role": "auditor",
            "X-Request-ID": "chosen-by-the-client",
            "X-Forwarded-For": "10.9.9.9",
            "Connection": "keep-alive, X-Secret",
            "X-Secret": "hop",
            "Proxy-Authorization": "Basic abc",
        },
    )
    assert response.status_code == 200
    seen = response.get_json()
    received = {k.lower(): v for k, v in seen["headers"].items()}
    assert not [h for h in received if h.startswith("x-relais-")]
    assert "proxy-authorization" not in received and "x-secret" not in received
    assert received["authorization"] == f"Bearer {token}"
    assert received["x-request-id"] == response.headers["X-Request-ID"] != "chosen-by-the-client"
    assert received["x-forwarded-for"] == "127.0.0.1"
    assert received["x-forwarded-proto"] == "http"
    assert seen["path"] == "/beneficiaries/x/contacts" and seen["query"] == "a=1&a=2"
    assert seen["body"] == '{"modality": "phone"}'
    assert "X-Relais-Internal" not in response.headers
    assert response.headers["X-Service"] == "echo"


def test_a_service_behind_a_path_is_forwarded_below_that_path(gateway_env, upstream, monkeypatch, clock):
    app = _app_with(monkeypatch, clock, RECORD_URL=f"{upstream}/behind/a/prefix/")
    token = forge.signed(app.extensions["relais.keys"].signing_key(), forge.claims(ISSUER))
    response = app.test_client().get("/api/v1/record/beneficiaries/x/timeline?limit=3",
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    seen = response.get_json()
    assert seen["path"] == "/behind/a/prefix/beneficiaries/x/timeline" and seen["query"] == "limit=3"


def test_a_head_request_is_forwarded_as_one(http, token):
    response = http.head("/api/v1/record/beneficiaries/x/timeline", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Service"] == "echo"


def test_security_headers_on_every_answer(http, token):
    for response in (http.get("/.well-known/jwks.json"), http.get("/api/v1/record/x", headers={
            "Authorization": f"Bearer {token}"}), http.get("/nowhere")):
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_cors_only_for_the_configured_origins(http):
    allowed = http.options("/api/v1/record/x", headers={
        "Origin": "https://app.example.org", "Access-Control-Request-Method": "POST"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    other = http.options("/api/v1/record/x", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_service_that_is_down_answers_503_at_once(http, token):
    response = http.get("/api/v1/alerts/anything", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert "alerts" in response.get_json()["detail"]


def test_a_service_that_hangs_answers_504_when_the_gateway_stops_waiting(gateway_env, monkeypatch, clock):
    app = _app_with(monkeypatch, clock, RELAIS_UPSTREAM_TIMEOUT_SECONDS="0.3")
    token = forge.signed(app.extensions["relais.keys"].signing_key(), forge.claims(ISSUER))
    response = app.test_client().get("/api/v1/record/slow", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 504 and response.mimetype == "application/problem+json"
    assert "did not answer in time" in response.get_json()["detail"]


def test_unknown_service_and_large_bodies(http, token):
    unknown = http.get("/api/v1/payroll/x", headers={"Authorization": f"Bearer {token}"})
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    big = http.post("/api/v1/record/x", data=b"x" * 70_000, content_type="application/json",
                    headers={"Authorization": f"Bearer {token}"})
    assert big.status_code == 413 and big.mimetype == "application/problem+json"
    not_a_form = http.post("/oauth/token", data=b"<xml/>", content_type="application/xml")
    assert not_a_form.status_code == 415 and not_a_form.mimetype == "application/problem+json"


def _app_with(monkeypatch, clock, **env):
    from services.gateway.app import create_app

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return create_app({"TESTING": True}, settings=load_settings("gateway"), clock=clock)


def test_rate_limit_per_client(gateway_env, monkeypatch, clock):
    app = _app_with(monkeypatch, clock, RELAIS_RATE_LIMIT_CLIENT_PER_MINUTE="12")  # burst of 2
    key = app.extensions["relais.keys"].signing_key()
    http = app.test_client()
    one = {"Authorization": f"Bearer {forge.signed(key, forge.claims(ISSUER, client_id='rc_one'))}"}
    two = {"Authorization": f"Bearer {forge.signed(key, forge.claims(ISSUER, client_id='rc_two'))}"}
    assert [http.get("/api/v1/record/x", headers=one).status_code for _ in range(3)] == [200, 200, 429]
    limited = http.get("/api/v1/record/x", headers=one)
    assert limited.mimetype == "application/problem+json" and 1 <= int(limited.headers["Retry-After"]) <= 5
    assert http.get("/api/v1/record/x", headers=two).status_code == 200  # another client is not held back


def test_rate_limit_per_address(gateway_env, monkeypatch, clock):
    app = _app_with(monkeypatch, clock, RELAIS_RATE_LIMIT_ADDRESS_PER_MINUTE="6")  # burst of 1
    http = app.test_client()
    assert http.get("/.well-known/jwks.json").status_code == 200
    limited = http.get("/.well-known/jwks.json")
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert http.get("/healthz").status_code == 200  # probes are never limited
    other = http.get("/.well-known/jwks.json", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def test_merged_openapi_prefixes_paths_and_schemas():
    record = {"paths": {"/beneficiaries/{id}/contacts": {"post": {"requestBody": {"content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Contact"}}}}}}},
        "components": {"schemas": {"Contact": {"type": "object"}}}, "tags": [{"name": "contacts"}]}
    audit = {"paths": {"/events": {"get": {}}}, "components": {"schemas": {"Contact": {"type": "string"}}}}
    merged = merge_documents(ISSUER, {"record": record, "audit": audit, "alerts": None})
    assert set(merged["paths"]) == {"/api/v1/record/beneficiaries/{id}/contacts", "/api/v1/audit/events"}
    ref = merged["paths"]["/api/v1/record/beneficiaries/{id}/contacts"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/RecordContact"
    assert set(merged["components"]["schemas"]) == {"RecordContact", "AuditContact"}
    flows = merged["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["authorizationCode"]["authorizationUrl"] == f"{ISSUER}/oauth/authorize"
    assert "alerts" in merged["info"]["description"]


def test_api_docs_are_served_from_the_package_not_a_cdn(http):
    page = http.get("/api/docs")
    assert page.status_code == 200 and "/api/docs/static/swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert "http" not in page.get_data(as_text=True).replace("http-equiv", "")
    script = http.get("/api/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.data) > 100_000
    assert http.get("/api/docs/init.js").status_code == 200
    document = http.get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0" and "oauth2" in document["components"]["securitySchemes"]


@pytest.mark.parametrize("path", [
    "/api/v1/audit/checkpoints/latest", "/api/v1/audit/checkpoints/key",
    "/api/v1/audit/checkpoints/consistency?old=1&new=2", "/api/v1/consent/receipts/keys",
    "/api/v1/record/vocabularies", "/api/v1/consent/vocabularies", "/api/v1/consent/policy",
])
def test_what_the_services_publish_passes_without_a_token(http, path):
    response = http.get(path)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/audit/events"), ("GET", "/api/v1/audit/checkpoints/latest/../../events"),
    ("POST", "/api/v1/audit/checkpoints/latest"), ("GET", "/api/v1/record/vocabularies/../caseload"),
    ("GET", "/api/v1/record/beneficiaries/x/timeline"),
])
def test_everything_else_still_needs_a_token(http, method, path):
    response = http.open(path, method=method)
    assert response.status_code == 401


def _count(http, route: str, status: str) -> float:
    """The gateway's counter of answered GET requests for ``route`` and ``status``, from /metrics."""
    for line in http.get("/metrics").get_data(as_text=True).splitlines():
        if (line.startswith("relais_http_requests_total{") and f'route="{route}"' in line
                and f'status="{status}"' in line and 'method="GET"' in line and 'service="gateway"' in line):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_every_call_of_the_api_is_counted_under_its_route_never_its_path(http, token, caplog):
    auth = {"Authorization": f"Bearer {token}"}
    below, service = "/api/v1/<service>/<path:path>", "/api/v1/<service>"
    before = _count(http, below, "200"), _count(http, service, "200"), _count(http, below, "401")
    with caplog.at_level("INFO", logger="relais.http"):
        assert http.get("/api/v1/record/beneficiaries/p-1234/timeline", headers=auth).status_code == 200
        assert http.get("/api/v1/record", headers=auth).status_code == 200
        assert http.get("/api/v1/record/beneficiaries/p-1234/timeline").status_code == 401
    after = _count(http, below, "200"), _count(http, service, "200"), _count(http, below, "401")
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    lines = " ".join(record.getMessage() for record in caplog.records if record.name == "relais.http")
    assert "<path:path>" in lines and "p-1234" not in lines


def test_a_refusal_at_the_door_is_problem_json_with_its_request_id_and_the_door_s_headers(http):
    refused = http.get("/api/v1/record/beneficiaries/x/timeline",
                       headers={"Authorization": "Basic abc", "Origin": "https://app.example.org"})
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["type"] == "urn:relais:problem:invalid-token" and "Bearer" in problem["detail"]
    assert problem["request_id"] == refused.headers["X-Request-ID"]
    assert refused.headers["WWW-Authenticate"].startswith("Bearer error=\"invalid_token\"")
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert refused.headers["X-Frame-Options"] == "DENY" and "Origin" in refused.headers.getlist("Vary")
    assert int(refused.headers["Content-Length"]) == len(refused.data)


def test_what_breaks_inside_the_door_is_a_bare_500_with_its_request_id(app, http, token, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(app.extensions["relais.upstreams"], "call", broken)
    failed = http.get("/api/v1/record/x", headers={"Authorization": f"Bearer {token}"})
    assert failed.status_code == 500 and failed.mimetype == "application/problem+json"
    assert failed.get_json()["request_id"] == failed.headers["X-Request-ID"]
    assert "secret detail" not in failed.get_data(as_text=True)


def test_paths_the_router_would_not_take_are_left_to_it(http, token):
    auth = {"Authorization": f"Bearer {token}"}
    merged = http.get("/api/v1/record//beneficiaries", headers=auth)
    assert merged.status_code == 308 and merged.headers["Location"].endswith("/api/v1/record/beneficiaries")
    bare = http.get("/api/v1/record/", headers=auth)
    assert bare.status_code == 404 and bare.mimetype == "application/problem+json"
    preflight = http.options("/api/v1/record/x", headers={"Origin": "https://app.example.org"})
    assert preflight.status_code == 200 and "POST" in preflight.headers["Allow"]


def test_a_body_sent_in_chunks_goes_on_whole_and_no_longer_than_the_limit(http, token):
    auth = {"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked",
            "Content-Type": "application/json"}
    # What gunicorn gives for a chunked body: no length, a stream that ends with the body.
    chunked = {"wsgi.input_terminated": True}
    sent = http.post("/api/v1/record/x", input_stream=io.BytesIO(b'{"modality": "phone"}'),
                     headers=auth, environ_overrides=chunked)
    assert sent.status_code == 200 and sent.get_json()["body"] == '{"modality": "phone"}'
    big = http.post("/api/v1/record/x", input_stream=io.BytesIO(b"x" * 70_000), headers=auth,
                    environ_overrides=chunked)
    assert big.status_code == 413 and big.mimetype == "application/problem+json"


def test_a_head_request_says_how_long_the_answer_would_be(http, token):
    auth = {"Authorization": f"Bearer {token}"}
    full = http.get("/api/v1/record/beneficiaries/x/timeline", headers=auth)
    head = http.head("/api/v1/record/beneficiaries/x/timeline", headers=auth)
    assert head.status_code == 200 and head.data == b""
    # The echo names the method it received: "HEAD" is one letter longer than "GET".
    assert head.headers["Content-Length"] == str(len(full.data) + 1)
    refused = http.head("/api/v1/record/beneficiaries/x/timeline")
    assert refused.status_code == 401 and refused.data == b"" and int(refused.headers["Content-Length"]) > 0


def test_behind_a_trusted_proxy_the_address_is_the_one_it_names(gateway_env, monkeypatch, clock):
    app = _app_with(monkeypatch, clock, RELAIS_TRUSTED_PROXIES="1", RELAIS_RATE_LIMIT_ADDRESS_PER_MINUTE="6")
    token = forge.signed(app.extensions["relais.keys"].signing_key(), forge.claims(ISSUER))
    http = app.test_client()

    def call(address: str):
        return http.get("/api/v1/record/x", headers={"Authorization": f"Bearer {token}",
                                                     "X-Forwarded-For": address})

    first = call("10.9.9.9")
    assert first.status_code == 200
    assert {k.lower(): v for k, v in first.get_json()["headers"].items()}["x-forwarded-for"] == "10.9.9.9"
    assert call("10.9.9.9").status_code == 429  # a burst of one per address
    assert call("10.8.8.8").status_code == 200
