"""A gateway app per test on a fresh SQLite database, with a controllable clock and a real echo
server standing in for the services behind the door."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from services.gateway import admin
from services.gateway.adapters.identities import totp_now
from shared.config import load_settings
from shared.db.engine import dispose_engines
from shared.db.migrations import upgrade
from tests.support.gateway_tokens import pkce_pair
from tests.support.gateway_upstream import echo_server

ISSUER = "http://gateway.test"
REDIRECT = "http://127.0.0.1:9999/callback"
PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def upstream():
    with echo_server() as url:
        yield url


@pytest.fixture
def gateway_env(tmp_path: Path, monkeypatch, upstream):
    env = {
        "RELAIS_VAR_DIR": str(tmp_path / "var"),
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "RELAIS_ISSUER": ISSUER,
        "RECORD_URL": upstream,
        "CONSENT_URL": upstream,
        "ALERTS_URL": "http://127.0.0.1:1",  # nothing listens there
        "AUDIT_URL": upstream,
        "RELAIS_LOG_FORMAT": "console",
        "RELAIS_LOGIN_MAX_FAILURES": "3",
        "RELAIS_LOGIN_ADDRESS_MAX_FAILURES": "1000",
        "RELAIS_CORS_ORIGINS": "https://app.example.org",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    upgrade("gateway", env["GATEWAY_DATABASE_URL"])
    yield env
    dispose_engines()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(gateway_env, clock):
    from services.gateway.app import create_app

    return create_app({"TESTING": True}, settings=load_settings("gateway"), clock=clock)


@pytest.fixture
def http(app):
    return app.test_client()


@dataclass
class Person:
    username: str
    user_id: str
    totp_secret: str | None

    def code(self) -> str:
        assert self.totp_secret
        return totp_now(self.totp_secret)


@pytest.fixture
def org(gateway_env):
    admin.create_organisation("cpas-ixelles", "CPAS d'Ixelles")
    return "cpas-ixelles"


@pytest.fixture
def professional(org):
    created = admin.create_user("alice.worker", "professional", PASSWORD, organisation=org,
                                profession="social_worker")
    return Person("alice.worker", created.user_id, None)


@pytest.fixture
def auditor(org):
    created = admin.create_user("dora.auditor", "auditor", PASSWORD, organisation=org, totp=True)
    return Person("dora.auditor", created.user_id, created.totp_secret)


@pytest.fixture
def web_app_client(org):
    """A public application people sign in to (PKCE, no secret)."""
    client_id, _ = admin.create_client(
        "Case web app", ["record:read", "record:write", "consent:read", "audit:read", "self"], org, None,
        redirect_uris=[REDIRECT], public=True,
    )
    return client_id


@pytest.fixture
def system_client(org):
    return admin.create_client("CPAS case system", ["record:read", "record:write"], org, "case_manager")


def authorize_params(client_id: str, challenge: str | None, **extra: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "st-1",
              "scope": "record:read record:write"}
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return {k: v for k, v in params.items() if v != ""}


def csrf_token_in(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(http, client_id: str, username: str, password: str = PASSWORD, code: str = "",
            **extra: str):
    """Load the sign-in page, then post its form; returns (response, verifier)."""
    verifier, challenge = pkce_pair()
    params = authorize_params(client_id, challenge, **extra)
    page = http.get("/oauth/authorize", query_string=params)
    token = csrf_token_in(page.get_data(as_text=True)) if page.status_code == 200 else ""
    response = http.post("/oauth/authorize", query_string=params,
                         data={"username": username, "password": password, "code": code, "csrf_token": token},
                         headers={"Accept": "application/problem+json"})
    return response, verifier


def code_from(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def exchange(http, client_id: str, code: str, verifier: str | None):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client_id}
    if verifier is not None:
        form["code_verifier"] = verifier
    return http.post("/oauth/token", data=form)


def tokens_for(http, client_id: str, username: str) -> dict:
    response, verifier = sign_in(http, client_id, username)
    answer = exchange(http, client_id, code_from(response), verifier)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()
