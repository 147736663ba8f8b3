"""The pages' foundation in one process: cookies, language, redirects that stay on the site,
sign-in starts, errors as pages for people and problems for programs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from services.gateway.settings import load_gateway_settings
from services.gateway.web.pages import local_path
from shared.config import ConfigError, load_settings
from tests.gateway.conftest import ISSUER, csrf_token_in

SITE = {"base_url": ISSUER}


def test_the_start_page_sets_an_http_only_same_site_session_cookie_holding_only_an_id(http):
    page = http.get("/", headers={"Accept-Language": "en"}, **SITE)
    assert page.status_code == 200 and "Relais: your record, your say" in page.get_data(as_text=True)
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("relais_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie and "Expires" not in cookie  # http here; ends with the browser
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) >= 40 and "." not in value


def test_over_https_the_session_cookie_is_secure_and_host_only(gateway_env, monkeypatch, clock):
    monkeypatch.setenv("RELAIS_WEB_SECURE_COOKIES", "true")
    from services.gateway.app import create_app

    app = create_app(settings=load_settings("gateway"), clock=clock)
    cookie = app.test_client().get("/", base_url="https://gateway.test").headers["Set-Cookie"]
    assert cookie.startswith("__Host-relais=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


def test_secure_cookies_follow_the_issuer_unless_told(gateway_env):
    assert load_gateway_settings(load_settings("gateway", {"RELAIS_ISSUER": "https://relais.example"})
                                 ).secure_cookies is True
    assert load_gateway_settings(load_settings("gateway")).secure_cookies is False
    with pytest.raises(ConfigError):
        load_gateway_settings(load_settings("gateway"), {"RELAIS_WEB_SECURE_COOKIES": "maybe"})


def test_the_language_form_sets_a_cookie_and_returns_only_to_this_site(http):
    token = csrf_token_in(http.get("/", **SITE).get_data(as_text=True))
    chosen = http.post("/language", data={"lang": "nl", "next": "/me?x=1", "csrf_token": token}, **SITE)
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/me?x=1"
    assert "relais_lang=nl" in chosen.headers["Set-Cookie"] and "HttpOnly" in chosen.headers["Set-Cookie"]
    assert '<html lang="nl">' in http.get("/", headers={"Accept-Language": "en"}, **SITE).get_data(as_text=True)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        away = http.post("/language", data={"lang": "fr", "next": evil, "csrf_token": token}, **SITE)
        assert away.headers["Location"] == "/", evil
    ignored = http.post("/language", data={"lang": "de", "csrf_token": token}, **SITE)
    assert "relais_lang" not in ignored.headers.get("Set-Cookie", "")
    assert http.post("/language", data={"lang": "en"}, **SITE).status_code == 400  # no token


@pytest.mark.parametrize("target, expected", [
    ("/me", "/me"), ("/oauth/authorize?a=1", "/oauth/authorize?a=1"), ("", "/"), ("me", "/"),
    ("//x.example", "/"), ("https://x.example/me", "/"), ("/\\x.example", "/"),
])
def test_local_paths_only(target, expected):
    assert local_path(target) == expected


def test_a_page_for_signed_in_people_sends_others_to_the_sign_in(http):
    assert http.get("/me", **SITE).headers["Location"].endswith("/signin")
    started = http.get("/signin", **SITE)
    location = urlsplit(started.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/oauth/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == ["relais-web"] and query["code_challenge_method"] == ["S256"]
    assert "scope" not in query  # the role decides: the client's scopes that the role allows
    # opened under another name of the host: the sign-in moves to the issuer first
    elsewhere = http.get("/signin", base_url="http://127.0.0.1:5000")
    assert elsewhere.headers["Location"] == f"{ISSUER}/signin?here=1"


def test_addresses_nobody_serves_are_pages_for_browsers_and_problems_for_programs(http):
    page = http.get("/nowhere", headers={"Accept": "text/html,*/*;q=0.8", "Accept-Language": "en"}, **SITE)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Nothing here" in page.get_data(as_text=True) and "Traceback" not in page.get_data(as_text=True)
    program = http.get("/nowhere", headers={"Accept": "*/*"}, **SITE)
    assert program.status_code == 404 and program.mimetype == "application/problem+json"
    api = http.get("/api/v1/nothing/here", headers={"Accept": "text/html"}, **SITE)
    assert api.mimetype == "application/problem+json"


def test_a_session_idles_out(http, clock):
    token = csrf_token_in(http.get("/", **SITE).get_data(as_text=True))
    clock.advance(1801)
    refused = http.post("/language", data={"lang": "nl", "csrf_token": token}, **SITE)
    assert refused.status_code == 400  # the session behind the token is gone


def test_the_pages_client_is_registered_once_and_follows_the_issuer(gateway_env, monkeypatch, app):
    from sqlalchemy import create_engine, text

    from services.gateway import admin

    admin.ensure_web_client()
    monkeypatch.setenv("RELAIS_ISSUER", "https://relais.example.org")
    admin.ensure_web_client()
    engine = create_engine(gateway_env["GATEWAY_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT redirect_uris, grant_types, auth_method FROM oauth_clients WHERE client_id = 'relais-web'")).all()
    engine.dispose()
    assert rows == [("https://relais.example.org/signin/callback", "authorization_code refresh_token",
                     "client_secret_basic")]
