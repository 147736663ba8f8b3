"""The web pages of the gateway: server-rendered (Flask, Jinja), no JavaScript, in French,
Dutch and English. They sign people in through the gateway's own OAuth login as a first-party
client (backend for frontend) and call the services' APIs with the person's token.

One mechanism each, used everywhere: Flask-Babel for the language, Flask-WTF's CSRFProtect for
every form (the API's blueprints are exempt: they take tokens, not cookies), a server-side
session for what a sign-in holds, and HTML error pages for the pages' blueprints."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint, Flask, Response, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session, sessionmaker

from services.gateway.adapters.secret_box import SecretBox, derive_key
from services.gateway.adapters.web_sessions import ServerSideSessions, WebSessionStore
from services.gateway.settings import GatewaySettings
from services.gateway.web import auditor, errors, i18n, pages, person, vocabulary
from services.gateway.web.account import WebParts, current_user
from services.gateway.web.client import register_web_client, web_client
from shared.auth import TokenVerifier
from shared.config import Settings

csrf = CSRFProtect()
PAGE_BLUEPRINTS = (pages.bp, person.bp, auditor.bp)
for _blueprint in PAGE_BLUEPRINTS:  # before any app registers them
    errors.install_on(_blueprint)


def install(app: Flask, *, settings: Settings, gateway: GatewaySettings, key: bytes,
            sessions: sessionmaker[Session], verifier: TokenVerifier, clock: Callable[[], float],
            api_blueprints: Iterable[Blueprint]) -> None:
    secure = gateway.secure_cookies
    app.secret_key = derive_key(key, "flask secret key")
    app.config.update(
        # `__Host-` cookies are refused by browsers unless Secure, for this host only, path /.
        SESSION_COOKIE_NAME="__Host-relais" if secure else "relais_session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # sent on the way back from the sign-in page, not on cross-site posts
        SESSION_COOKIE_PATH="/",
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as its session
    )
    store = WebSessionStore(sessions, SecretBox(key, "web sessions"), gateway.web_session_idle_seconds, clock)
    app.session_interface = ServerSideSessions(store)
    i18n.install(app)
    vocabulary.install(app)
    csrf.init_app(app)
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)
    for blueprint in PAGE_BLUEPRINTS:
        app.register_blueprint(blueprint)
    errors.install_fallback(app)
    client = web_client(key, settings.issuer, gateway.internal_url)
    register_web_client(sessions, client)
    app.extensions["relais.web"] = WebParts(client=client, store=store, verifier=verifier, clock=clock)

    @app.context_processor
    def _page_context():
        if request.blueprint not in {b.name for b in PAGE_BLUEPRINTS} | {"login"}:
            return {}
        # Where the language form comes back to: this page, when it can be opened again.
        here = request.full_path.rstrip("?") if request.method == "GET" or request.blueprint == "login" else "/"
        return {"signed_in_user": current_user(), "here": here}

    @app.after_request
    def _never_cached(response: Response) -> Response:
        if request.blueprint in {b.name for b in PAGE_BLUEPRINTS} and request.endpoint != "pages.static":
            response.headers["Cache-Control"] = "no-store"
        return response
