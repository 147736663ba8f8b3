"""The sign-in page of the authorization endpoint: a person proves who they are (password, and
a TOTP code where required), and the client receives an authorization code.

Unknown names and wrong passwords get the same answer after the same work (an Argon2 check
either way); failures are counted per name and per address, and a locked key is refused
before any password is checked."""

from __future__ import annotations

import math

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, current_app, render_template_string, request

from services.gateway.adapters.identities import password_matches, totp_step
from services.gateway.domain.identities import User
from shared.web.app_factory import accepts
from shared.web.problems import Problem, problem_response

bp = Blueprint("login", __name__)

FAILED = "The name, the password or the code is not right."
LOCKED = "Too many failed sign-ins: wait a moment before trying again."

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to Relais</title>
<style>body{font:16px/1.4 system-ui,sans-serif;max-width:24rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;font-size:1rem}
button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}.error{color:#a00}</style></head>
<body><h1>Sign in</h1>
<p><strong>{{ client_name }}</strong> asks to act for you with: {{ scope or "(no scope)" }}.</p>
{% if message %}<p class="error" role="alert">{{ message }}</p>{% endif %}
<form method="post" action="{{ action }}">
<label for="username">Name</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="code">Code from your authenticator app (if you use one)</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}">
<button type="submit">Sign in</button></form></body></html>"""


def _wants_html() -> bool:
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", "application/problem+json", "application/json"])
    return not accept or best == "text/html"


def _page(grant, message: str | None, status: int, headers: dict[str, str] | None = None) -> Response:
    if status != 200 and not _wants_html():
        slug = "too-many-requests" if status == 429 else "sign-in-failed"
        return problem_response(Problem(message, status=status, slug=slug, headers=headers))
    html = render_template_string(
        PAGE, client_name=grant.client.name, scope=grant.request.scope, message=message, action=request.full_path
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
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
