"""The sign-in page of the authorization endpoint: a person proves who they are (password, and
a TOTP code where required), and the client receives an authorization code.

Unknown names and wrong passwords get the same answer after the same work (an Argon2 check
either way); failures are counted per name and per address, and a locked key is refused
before any password is checked."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError

from services.gateway.adapters.identities import password_matches, totp_step
from services.gateway.api.edge import CSP
from services.gateway.domain.identities import User
from services.gateway.web import csrf
from services.gateway.web.client import WEB_CLIENT_ID
from services.gateway.web.vocabulary import N_
from shared.web.app_factory import accepts
from shared.web.problems import Problem, problem_response

bp = Blueprint("login", __name__)

# English for API clients (problem+json); translated on the page.
FAILED = N_("The name, the password or the code is not right.")
LOCKED = N_("Too many failed sign-ins: wait a moment before trying again.")
EXPIRED = N_("This page had expired. Nothing was sent: sign in again.")
SCOPE_LABELS = {
    "record:read": N_("read the journeys you may see"),
    "record:write": N_("note contacts, steps, stays and transitions"),
    "consent:read": N_("read consent and record status"),
    "consent:manage": N_("register persons and manage their consent"),
    "alerts:read": N_("read your alerts"),
    "alerts:manage": N_("handle alerts"),
    "audit:read": N_("search the access log"),
    "self": N_("see and manage your own record"),
    "admin": N_("administer Relais"),
}


def _wants_html() -> bool:
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", "application/problem+json", "application/json"])
    return not accept or best == "text/html"


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _page(grant, message: str | None, status: int, headers: dict[str, str] | None = None) -> Response:
    if status != 200 and not _wants_html():
        slug = "too-many-requests" if status == 429 else "sign-in-failed"
        return problem_response(Problem(message, status=status, slug=slug, headers=headers))
    client = grant.client
    first_party = client.get_client_id() == WEB_CLIENT_ID
    scopes = [gettext(SCOPE_LABELS[s]) for s in (grant.request.scope or "").split() if s in SCOPE_LABELS]
    html = render_template("signin.html", client_name=client.name, first_party=first_party, scopes=scopes,
                           message=gettext(message) if message else None, action=request.full_path)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    # After the form, the browser is sent to the client's redirect URI: allow that origin.
    redirect_origin = _origin(grant.redirect_uri or "")
    response.headers["Content-Security-Policy"] = CSP.replace(
        "form-action 'self'", f"form-action 'self' {redirect_origin}")
    return response


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@accepts("application/x-www-form-urlencoded")
def authorize():
    parts = current_app.extensions["relais.oauth"]
    server = parts.server
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        # Redirected back only when the client and its redirect URI were recognised.
        return server.handle_error_response(None, error)
    if request.method == "GET":
        return _page(grant, None, 200)
    try:
        csrf.protect()
    except CSRFError:
        return _page(grant, EXPIRED, 400)
    username = request.form.get("username", "")[:200]
    password = request.form.get("password", "")[:1000]
    code = request.form.get("code", "").strip()
    address = request.remote_addr or "unknown"
    throttle = current_app.extensions["relais.login_throttle"]
    wait = throttle.retry_after(username, address)
    if wait > 0:
        return _page(grant, LOCKED, 429, {"Retry-After": str(math.ceil(wait))})
    user = _authenticate(parts, username, password, code)
    if user is None:
        throttle.failed(username, address)
        return _page(grant, FAILED, 401)
    throttle.succeeded(username)
    return server.create_authorization_response(grant=grant, grant_user=user)


def _authenticate(parts, username: str, password: str, code: str) -> User | None:
    repository = parts.identities()
    try:
        user = repository.by_username(username)
        if not password_matches(user.password_hash if user else None, password) or user is None:
            return None
        if user.needs_second_factor:
            step = totp_step(user.totp_secret, code)
            if step is None or not repository.use_totp_step(user.user_id, step):
                return None
        return user
    finally:
        repository.session.close()
