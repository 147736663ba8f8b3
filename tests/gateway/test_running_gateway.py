"""OAuth against the running stack (`relais up`), with a client library no one here wrote:
Authlib's requests client completes the authorization code flow with PKCE through the real
sign-in form, and the client-credentials flow; it refreshes, and its tokens are revoked."""

from __future__ import annotations

import re
import secrets
from html import unescape

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from tests.support.gateway_cli import relais_admin
from tests.support.stack import start_stack, teardown

pytestmark = pytest.mark.e2e

REDIRECT = "http://127.0.0.1:9/callback"  # never followed: the test reads the redirect itself
PASSWORD = "a long and private passphrase"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("gateway-e2e") / "var")
    yield running
    running.stop()
    teardown(running)


@pytest.fixture(scope="module")
def accounts(stack):
    relais_admin(stack, "create-org", "--code", "cpas-e2e", "--name", "CPAS e2e")
    user = relais_admin(stack, "create-user", "--username", "bea.worker", "--role", "professional",
                        "--organisation", "cpas-e2e", "--profession", "social_worker",
                        stdin=f"{PASSWORD}\n{PASSWORD}\n")
    app = relais_admin(stack, "create-client", "--name", "Case web app", "--redirect-uri", REDIRECT,
                       "--scopes", "consent:manage record:read record:write", "--organisation", "cpas-e2e")
    system = relais_admin(stack, "create-client", "--name", "CPAS case system",
                          "--scopes", "consent:manage record:write", "--organisation", "cpas-e2e",
                          "--profession", "case_manager")
    return {"user_id": user["user_id"], "app": app, "system": system}


def sign_in_through_the_form(url: str, gateway: str) -> str:
    """What a browser does: load the page, post the form, stop at the redirect to the client."""
    browser = requests.Session()  # the sign-in form's CSRF token belongs to this cookie
    page = browser.get(url, timeout=10)
    assert page.status_code == 200 and "<form" in page.text
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = browser.post(gateway + action,
                          data={"username": "bea.worker", "password": PASSWORD, "csrf_token": token},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def test_authorization_code_with_pkce_refresh_and_revocation(stack, accounts):
    gateway = stack.gateway
    app = accounts["app"]
    client = OAuth2Session(app["client_id"], app["client_secret"], scope="consent:manage record:write",
                           redirect_uri=REDIRECT, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, state = client.create_authorization_url(f"{gateway}/oauth/authorize", code_verifier=verifier)
    callback = sign_in_through_the_form(url, gateway)
    assert callback.startswith(REDIRECT + "?") and f"state={state}" in callback
    token = client.fetch_token(f"{gateway}/oauth/token", authorization_response=callback, code_verifier=verifier)
    assert token["scope"] == "consent:manage record:write" and token["refresh_token"]

    registered = client.post(f"{gateway}/api/v1/consent/beneficiaries", timeout=10)
    assert registered.status_code == 201, registered.text

    first_refresh = token["refresh_token"]
    renewed = client.refresh_token(f"{gateway}/oauth/token")
    assert renewed["access_token"] != token["access_token"]
    assert renewed["refresh_token"] != first_refresh
    assert client.post(f"{gateway}/api/v1/consent/beneficiaries", timeout=10).status_code == 201

    reused = requests.post(f"{gateway}/oauth/token", auth=(app["client_id"], app["client_secret"]),
                           data={"grant_type": "refresh_token", "refresh_token": first_refresh}, timeout=10)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    refused = client.post(f"{gateway}/api/v1/consent/beneficiaries", timeout=10)
    assert refused.status_code == 401 and refused.headers["Content-Type"] == "application/problem+json"


def test_client_credentials_then_revocation(stack, accounts):
    gateway = stack.gateway
    system = accounts["system"]
    client = OAuth2Session(system["client_id"], system["client_secret"], scope="consent:manage")
    token = client.fetch_token(f"{gateway}/oauth/token", grant_type="client_credentials")
    assert token["scope"] == "consent:manage" and "refresh_token" not in token
    assert client.post(f"{gateway}/api/v1/consent/beneficiaries", timeout=10).status_code == 201
    seen = requests.post(f"{gateway}/oauth/introspect", auth=(system["client_id"], system["client_secret"]),
                         data={"token": token["access_token"]}, timeout=10).json()
    assert seen["active"] is True and seen["role"] == "system" and seen["org"] == "cpas-e2e"
    revoked = client.revoke_token(f"{gateway}/oauth/revoke", token=token["access_token"],
                                  token_type_hint="access_token")
    assert revoked.status_code == 200
    refused = client.post(f"{gateway}/api/v1/consent/beneficiaries", timeout=10)
    assert refused.status_code == 401 and refused.json()["detail"] == "The token has been revoked."
    answer = requests.post(f"{gateway}/oauth/token", auth=(system["client_id"], system["client_secret"]),
                           data={"grant_type": "client_credentials", "scope": "audit:read"}, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope"


def test_the_running_gateway_publishes_discovery_jwks_and_docs(stack):
    meta = requests.get(f"{stack.gateway}/.well-known/openid-configuration", timeout=10).json()
    keys = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert keys and all(k["alg"] == "ES256" for k in keys)
    document = requests.get(f"{stack.gateway}/api/openapi.json", timeout=10).json()
    assert any(path.startswith("/api/v1/consent/") for path in document["paths"])
    assert any(path.startswith("/api/v1/record/") for path in document["paths"])
    assert requests.get(f"{stack.gateway}/api/docs", timeout=10).status_code == 200
