"""The pages as an OAuth client of their own gateway, over real HTTP: the gateway runs in a
threaded server with a controllable clock, a stand-in consent service records the access
token each page call carries. Sign-in (PKCE through the real form), refresh with rotation
(also when several requests need it at once), and sign-out that revokes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.gateway import admin
from shared.config import load_settings
from shared.db.engine import dispose_engines
from shared.db.migrations import upgrade
from tests.gateway.conftest import PASSWORD, Clock

PERSON = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class FakeConsent:
    """Answers the person's status and remembers which token each call carried."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            self.tokens.append(request.headers.get("Authorization", ""))
        body = {"id": PERSON, "registered_at": "2026-11-20T10:00:00+00:00", "anonymous": True, "epoch": 0,
                "active_grants": 1, "exclusions": 0, "open_emergency_accesses": 0}
        return Response(json.dumps(body), mimetype="application/json")(environ, start_response)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running(tmp_path, monkeypatch):
    consent = FakeConsent()
    port = _free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    db = f"sqlite:///{tmp_path / 'gateway.db'}"
    env = {"RELAIS_VAR_DIR": str(tmp_path / "var"), "GATEWAY_DATABASE_URL": db, "RELAIS_ISSUER": gateway_url,
           "RELAIS_GATEWAY_INTERNAL_URL": gateway_url, "RELAIS_LOG_FORMAT": "console",
           "AUDIT_URL": "http://127.0.0.1:1", "RECORD_URL": "http://127.0.0.1:1", "ALERTS_URL": "http://127.0.0.1:1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    upgrade("gateway", db)
    admin.ensure_web_client()
    admin.create_user("bea.person", "beneficiary", PASSWORD, beneficiary=PERSON)
    clock = Clock()
    with serving(consent) as consent_url:
        monkeypatch.setenv("CONSENT_URL", consent_url)
        from services.gateway.app import create_app

        app = create_app(settings=load_settings("gateway"), clock=clock)
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"url": gateway_url, "consent": consent, "clock": clock, "db": db}
        finally:
            server.shutdown()
            thread.join(timeout=10)
    dispose_engines()


def _token_in(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(url: str) -> requests.Session:
    browser = requests.Session()
    browser.trust_env = False
    browser.headers["Accept-Language"] = "en"
    started = browser.get(url + "/signin", allow_redirects=False)
    assert started.status_code == 302
    authorize = urlsplit(started.headers["Location"])
    query = parse_qs(authorize.query)
    assert authorize.path == "/oauth/authorize" and query["client_id"] == ["relais-web"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["redirect_uri"] == [url + "/signin/callback"] and query["state"][0]
    page = browser.get(started.headers["Location"])
    assert page.status_code == 200
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    answer = browser.post(url + action, data={"username": "bea.person", "password": PASSWORD,
                                              "csrf_token": _token_in(page.text)}, allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(url + "/signin/callback?")
    home = browser.get(answer.headers["Location"])
    assert home.status_code == 200 and urlsplit(home.url).path == "/me", home.text
    return browser


def _rows(db: str, sql: str) -> list[dict]:
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_sign_in_refresh_with_rotation_and_sign_out_that_revokes(running):
    url, consent, clock = running["url"], running["consent"], running["clock"]
    browser = sign_in(url)
    first = consent.tokens[-1]
    assert first.startswith("Bearer ")
    assert browser.get(url + "/me").status_code == 200
    assert consent.tokens[-1] == first  # still fresh: no refresh

    clock.advance(290)  # ten seconds left: the next call refreshes first
    assert browser.get(url + "/me").status_code == 200
    second = consent.tokens[-1]
    assert second != first
    tokens = _rows(running["db"], "SELECT used_at, revoked_at FROM refresh_tokens ORDER BY issued_at")
    assert len(tokens) == 2 and tokens[0]["used_at"] is not None and tokens[1]["used_at"] is None

    clock.advance(290)  # several requests find the token old at once: one refresh, no replay
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: browser.get(url + "/me").status_code, range(4)))
    assert answers == [200, 200, 200, 200]
    assert browser.get(url + "/me").status_code == 200
    rows = _rows(running["db"], "SELECT used_at, revoked_at FROM refresh_tokens")
    assert len(rows) == 3 and all(r["revoked_at"] is None for r in rows)

    home = browser.get(url + "/me")
    signed_in_id = hashlib.sha256(browser.cookies["relais_session"].encode()).hexdigest()
    out = browser.post(url + "/signout", data={"csrf_token": _token_in(home.text)})
    assert out.status_code == 200 and "signed out" in out.text.lower()
    rows = _rows(running["db"], "SELECT revoked_at FROM refresh_tokens")
    assert all(r["revoked_at"] is not None for r in rows)  # the whole sign-in is revoked
    payload = consent.tokens[-1].split(".")[1]
    jti = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]
    revoked = {r["jti"] for r in _rows(running["db"], "SELECT jti FROM revoked_access_tokens")}
    assert jti in revoked  # the access token in hand is refused by the door from now on
    sessions = {r["id_hash"] for r in _rows(running["db"], "SELECT id_hash FROM web_sessions")}
    assert signed_in_id not in sessions  # the signed-in session is gone (a fresh one holds the page's form)
    again = browser.get(url + "/me", allow_redirects=False)
    assert again.status_code == 302 and again.headers["Location"].endswith("/signin")


def test_the_session_row_holds_no_token_and_the_cookie_only_an_id(running):
    browser = sign_in(running["url"])
    cookie = next(c for c in browser.cookies if c.name == "relais_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.secure is False
    (row,) = _rows(running["db"], "SELECT id_hash, data FROM web_sessions")
    bearer = running["consent"].tokens[-1].removeprefix("Bearer ")
    assert bearer not in row["data"] and bearer.split(".")[1] not in row["data"]
    assert cookie.value not in row["id_hash"] and cookie.value not in row["data"]
    assert row["data"].startswith("v1.")


def test_a_sign_in_that_comes_back_with_a_wrong_state_is_refused(running):
    url = running["url"]
    browser = requests.Session()
    browser.trust_env = False
    browser.get(url + "/signin", allow_redirects=False)
    answer = browser.get(url + "/signin/callback?code=whatever&state=forged", headers={"Accept-Language": "en"})
    assert answer.status_code == 400 and "This sign-in has expired" in answer.text
    stopped = browser.get(url + "/signin/callback?error=access_denied", headers={"Accept-Language": "en"})
    assert stopped.status_code == 400 and "You are not signed in" in stopped.text
