"""The authorization server in one process on SQLite: the flows, and the attacks on them."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

from tests.gateway.conftest import (
    PASSWORD,
    REDIRECT,
    authorize_params,
    code_from,
    csrf_token_in,
    exchange,
    sign_in,
    tokens_for,
)
from tests.support.gateway_tokens import pkce_pair


def payload_of(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def header_of(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def oauth_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == error
    assert "Location" not in response.headers


def redirected_error(response, error: str) -> None:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["error"] == [error]
    assert "code" not in query


def test_a_person_signs_in_with_pkce_and_gets_an_rfc9068_token_with_their_claims(http, web_app_client, professional):
    page = http.get("/oauth/authorize", query_string=authorize_params(web_app_client, pkce_pair()[1]))
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Case web app" in page.get_data(as_text=True)
    tokens = tokens_for(http, web_app_client, professional.username)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 300
    assert tokens["scope"] == "record:read record:write"
    claims = payload_of(tokens["access_token"])
    assert header_of(tokens["access_token"])["typ"] == "at+jwt"
    assert header_of(tokens["access_token"])["alg"] == "ES256"
    assert claims["iss"] == "http://gateway.test"
    assert claims["sub"] == professional.user_id
    assert claims["client_id"] == web_app_client
    assert set(claims["aud"]) == {"urn:relais:consent", "urn:relais:record", "urn:relais:alerts", "urn:relais:audit"}
    assert claims["exp"] - claims["iat"] == 300
    assert (claims["role"], claims["org"], claims["profession"]) == ("professional", "cpas-ixelles", "social_worker")
    assert "beneficiary" not in claims and claims["jti"]
    assert http.get("/api/v1/record/anything", headers=bearer(tokens["access_token"])).status_code == 200


def test_no_scope_asked_gives_the_clients_scopes_that_the_role_allows(http, web_app_client, professional):
    response, verifier = sign_in(http, web_app_client, professional.username, scope="")
    tokens = exchange(http, web_app_client, code_from(response), verifier).get_json()
    assert tokens["scope"] == "record:read record:write consent:read"


def test_a_role_never_gets_a_scope_beyond_it(http, web_app_client, professional):
    response, _ = sign_in(http, web_app_client, professional.username, scope="record:read audit:read")
    redirected_error(response, "invalid_scope")


def test_pkce_is_required_and_only_s256(http, web_app_client):
    missing = http.get("/oauth/authorize", query_string=authorize_params(web_app_client, None))
    redirected_error(missing, "invalid_request")
    verifier, _ = pkce_pair()
    plain = http.get("/oauth/authorize", query_string=authorize_params(
        web_app_client, None, code_challenge=verifier, code_challenge_method="plain"))
    redirected_error(plain, "invalid_request")


def test_a_wrong_or_missing_code_verifier_is_refused(http, web_app_client, professional):
    response, _ = sign_in(http, web_app_client, professional.username)
    oauth_error(exchange(http, web_app_client, code_from(response), pkce_pair()[0]), 400, "invalid_grant")
    response, _ = sign_in(http, web_app_client, professional.username)
    oauth_error(exchange(http, web_app_client, code_from(response), None), 400, "invalid_request")


def test_a_code_works_once(http, web_app_client, professional):
    response, verifier = sign_in(http, web_app_client, professional.username)
    code = code_from(response)
    assert exchange(http, web_app_client, code, verifier).status_code == 200
    oauth_error(exchange(http, web_app_client, code, verifier), 400, "invalid_grant")


def test_an_unregistered_redirect_uri_is_never_followed(http, web_app_client, professional):
    for evil in ("https://evil.example/callback", REDIRECT + "/../../evil", REDIRECT + "?next=https://evil.example"):
        params = authorize_params(web_app_client, pkce_pair()[1], redirect_uri=evil)
        oauth_error(http.get("/oauth/authorize", query_string=params), 400, "invalid_request")
        posted = http.post("/oauth/authorize", query_string=params,
                           data={"username": professional.username, "password": PASSWORD})
        oauth_error(posted, 400, "invalid_request")
    oauth_error(http.get("/oauth/authorize", query_string=authorize_params("rc_nobody", pkce_pair()[1])),
                400, "invalid_client")


def test_implicit_and_password_grants_do_not_exist(http, web_app_client, system_client, professional):
    implicit = http.get("/oauth/authorize", query_string=authorize_params(
        web_app_client, pkce_pair()[1], response_type="token"))
    redirected_error(implicit, "unsupported_response_type")
    client_id, secret = system_client
    password = http.post("/oauth/token", auth=(client_id, secret), data={
        "grant_type": "password", "username": professional.username, "password": PASSWORD})
    oauth_error(password, 400, "unsupported_grant_type")


def test_client_credentials_carry_the_clients_claims_and_never_more_scope(http, system_client):
    client_id, secret = system_client
    answer = http.post("/oauth/token", auth=(client_id, secret), data={"grant_type": "client_credentials"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    token = answer.get_json()
    assert "refresh_token" not in token
    claims = payload_of(token["access_token"])
    assert (claims["sub"], claims["role"], claims["org"], claims["profession"]) == (
        client_id, "system", "cpas-ixelles", "case_manager")
    assert claims["scope"] == "record:read record:write"
    escalation = http.post("/oauth/token", auth=(client_id, secret),
                           data={"grant_type": "client_credentials", "scope": "record:read audit:read"})
    oauth_error(escalation, 400, "invalid_scope")
    unknown = http.post("/oauth/token", auth=(client_id, secret),
                        data={"grant_type": "client_credentials", "scope": "everything"})
    oauth_error(unknown, 400, "invalid_scope")
    wrong_secret = http.post("/oauth/token", auth=(client_id, "guess"), data={"grant_type": "client_credentials"})
    assert wrong_secret.status_code == 401 and wrong_secret.get_json()["error"] == "invalid_client"


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_sign_in(http, web_app_client, professional):
    first = tokens_for(http, web_app_client, professional.username)
    form = {"grant_type": "refresh_token", "client_id": web_app_client}
    second = http.post("/oauth/token", data={**form, "refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.get_data(as_text=True)
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert http.get("/api/v1/record/x", headers=bearer(second["access_token"])).status_code == 200
    # the first refresh token comes back: someone holds a copy
    replay = http.post("/oauth/token", data={**form, "refresh_token": first["refresh_token"]})
    oauth_error(replay, 400, "invalid_grant")
    after = http.post("/oauth/token", data={**form, "refresh_token": second["refresh_token"]})
    oauth_error(after, 400, "invalid_grant")
    refused = http.get("/api/v1/record/x", headers=bearer(second["access_token"]))
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["type"] == "urn:relais:problem:invalid-token"


def test_refresh_cannot_widen_the_scope(http, web_app_client, professional):
    first = tokens_for(http, web_app_client, professional.username)
    widened = http.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": web_app_client,
                                               "refresh_token": first["refresh_token"], "scope": "record:read self"})
    oauth_error(widened, 400, "invalid_scope")


def test_revocation_and_introspection(http, web_app_client, system_client, professional):
    tokens = tokens_for(http, web_app_client, professional.username)
    access = tokens["access_token"]
    seen = http.post("/oauth/introspect", data={"token": access, "client_id": web_app_client}).get_json()
    assert seen["active"] is True and seen["sub"] == professional.user_id and seen["role"] == "professional"
    client_id, secret = system_client
    other = http.post("/oauth/introspect", auth=(client_id, secret), data={"token": access}).get_json()
    assert other == {"active": False}  # a client sees only its own tokens
    assert http.post("/oauth/revoke", data={"token": access, "client_id": web_app_client}).status_code == 200
    assert http.post("/oauth/introspect", data={"token": access, "client_id": web_app_client}).get_json() == {
        "active": False}
    refused = http.get("/api/v1/record/x", headers=bearer(access))
    assert refused.status_code == 401 and refused.get_json()["detail"] == "The token has been revoked."
    revoked = http.post("/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": web_app_client})
    assert revoked.status_code == 200
    oauth_error(http.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": web_app_client,
                                                 "refresh_token": tokens["refresh_token"]}), 400, "invalid_grant")
    # an unknown token is "revoked" too (RFC 7009 §2.2), without saying it was unknown
    assert http.post("/oauth/revoke", data={"token": "nothing", "client_id": web_app_client}).status_code == 200


def test_sign_in_failures_lock_the_name_with_one_answer_for_unknown_and_known(http, web_app_client, professional, clock):
    answers = {}
    for name in (professional.username, "nobody.here"):
        for _ in range(3):
            response, _ = sign_in(http, web_app_client, name, password="wrong password!!")
            assert response.status_code == 401
            assert response.mimetype == "application/problem+json"
            body = response.get_json()
            body.pop("request_id")
            answers[name] = body
        locked, _ = sign_in(http, web_app_client, name)  # even the right password waits now
        assert locked.status_code == 429
        assert locked.mimetype == "application/problem+json"
        assert int(locked.headers["Retry-After"]) == 30
    assert answers[professional.username] == answers["nobody.here"]
    assert answers["nobody.here"]["detail"] == "The name, the password or the code is not right."
    clock.advance(31)
    response, verifier = sign_in(http, web_app_client, professional.username)
    assert exchange(http, web_app_client, code_from(response), verifier).status_code == 200


def test_lockout_backs_off_exponentially(http, web_app_client, professional, clock):
    for expected in (30, 60, 120):
        for _ in range(3 if expected == 30 else 1):
            sign_in(http, web_app_client, professional.username, password="wrong password!!")
        locked, _ = sign_in(http, web_app_client, professional.username)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) == expected
        clock.advance(expected + 1)


def test_an_auditor_needs_the_totp_code(http, web_app_client, auditor):
    without, _ = sign_in(http, web_app_client, auditor.username, scope="audit:read")
    assert without.status_code == 401
    wrong, _ = sign_in(http, web_app_client, auditor.username, code="000000", scope="audit:read")
    assert wrong.status_code == 401
    response, verifier = sign_in(http, web_app_client, auditor.username, code=auditor.code(), scope="audit:read")
    token = exchange(http, web_app_client, code_from(response), verifier).get_json()
    assert payload_of(token["access_token"])["role"] == "auditor"
    replayed, _ = sign_in(http, web_app_client, auditor.username, code=auditor.code(), scope="audit:read")
    assert replayed.status_code == 401  # a code works once


def test_the_sign_in_page_is_html_for_browsers(http, web_app_client, professional):
    params = authorize_params(web_app_client, pkce_pair()[1])
    token = csrf_token_in(http.get("/oauth/authorize", query_string=params).get_data(as_text=True))
    failed = http.post("/oauth/authorize", query_string=params,
                       headers={"Accept": "text/html", "Accept-Language": "en"},
                       data={"username": professional.username, "password": "nope", "csrf_token": token})
    assert failed.status_code == 401 and failed.mimetype == "text/html"
    assert "not right" in failed.get_data(as_text=True)
    assert "nope" not in failed.get_data(as_text=True)


def test_the_sign_in_form_refuses_a_post_without_its_csrf_token(http, web_app_client, professional):
    params = authorize_params(web_app_client, pkce_pair()[1])
    for token in (None, "forged-token"):
        data = {"username": professional.username, "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        refused = http.post("/oauth/authorize", query_string=params, data=data,
                            headers={"Accept": "text/html", "Accept-Language": "en"})
        assert refused.status_code == 400 and "Location" not in refused.headers
        assert "expired" in refused.get_data(as_text=True)
        assert csrf_token_in(refused.get_data(as_text=True))  # a fresh form to try again
    # a token of another browser's session does not work here either
    other = http.application.test_client()
    foreign = csrf_token_in(other.get("/oauth/authorize", query_string=params).get_data(as_text=True))
    refused = http.post("/oauth/authorize", query_string=params,
                        data={"username": professional.username, "password": PASSWORD, "csrf_token": foreign})
    assert refused.status_code == 400 and "Location" not in refused.headers


def test_the_sign_in_page_speaks_the_browsers_language(http, web_app_client):
    params = authorize_params(web_app_client, pkce_pair()[1])
    for language, words in (("nl-BE,nl;q=0.9", "Aanmelden"), ("fr-BE", "Se connecter"), ("en-GB", "Sign in")):
        page = http.get("/oauth/authorize", query_string=params, headers={"Accept-Language": language})
        html = page.get_data(as_text=True)
        assert f'<html lang="{language[:2]}">' in html and f"<h1>{words}</h1>" in html
        policy = page.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "form-action 'self' http://127.0.0.1:9999" in policy


def test_discovery_and_jwks(http):
    meta = http.get("/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == "http://gateway.test"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["grant_types_supported"]) == {"authorization_code", "client_credentials", "refresh_token"}
    assert meta["revocation_endpoint"].endswith("/oauth/revoke")
    assert meta["introspection_endpoint"].endswith("/oauth/introspect")
    keys = http.get("/.well-known/jwks.json").get_json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "EC" and keys[0]["alg"] == "ES256" and "d" not in keys[0]
