"""Who is signed in to the pages, and their tokens — kept in the server-side session, never in
the browser. The pages are an OAuth client of the gateway (Authlib's client): authorization code
with PKCE S256, the access token refreshed with the rotating refresh token shortly before it
expires (under a lock, so two requests never spend the same refresh token), both revoked at
sign-out."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2 import OAuth2Error
from flask import current_app, session
from requests import RequestException

from services.gateway.adapters.web_sessions import WebSession, WebSessionStore
from services.gateway.web.client import WebClient
from shared.auth import InvalidToken, TokenVerifier, audience_of

REFRESH_MARGIN_SECONDS = 30.0
OAUTH_TIMEOUT_SECONDS = 10.0
# Where each role lands after signing in.
HOMES = {"beneficiary": "person.home", "auditor": "auditor.search", "admin": "auditor.search"}


class SignedOut(Exception):
    """There is no sign-in in this session, or it has ended (expired, revoked, signed out)."""


class SignInFailed(Exception):
    """The way back from the sign-in page did not complete (expired, replayed, refused)."""


@dataclass
class WebParts:
    client: WebClient
    store: WebSessionStore
    verifier: TokenVerifier
    clock: Callable[[], float]


def parts() -> WebParts:
    return current_app.extensions["relais.web"]


def _oauth(**extra: Any) -> OAuth2Session:
    client = parts().client
    oauth = OAuth2Session(client.client_id, client.secret, token_endpoint_auth_method="client_secret_basic",
                          redirect_uri=client.redirect_uri, code_challenge_method="S256",
                          default_timeout=OAUTH_TIMEOUT_SECONDS, **extra)
    oauth.trust_env = False  # the gateway calls itself; never through a proxy from the environment
    return oauth


def current_user() -> dict[str, Any] | None:
    user = session.get("user")
    return user if isinstance(user, dict) and session.get("tokens") else None


def home_endpoint(role: str) -> str:
    return HOMES.get(role, "pages.professional_home")


def start_sign_in() -> str:
    """The authorization URL to send the browser to; the state and the PKCE verifier stay here."""
    verifier = secrets.token_urlsafe(64)
    state = secrets.token_urlsafe(24)
    session["signin"] = {"state": state, "verifier": verifier, "at": parts().clock()}
    url, _ = _oauth().create_authorization_url(parts().client.authorize_url, state=state,
                                               code_verifier=verifier)
    return url


SIGN_IN_WINDOW_SECONDS = 600.0


def finish_sign_in(code: str, state: str) -> dict[str, Any]:
    pending = session.pop("signin", None)
    if not isinstance(pending, dict) or not code or not state:
        raise SignInFailed("no sign-in in progress")
    if not hmac.compare_digest(str(pending.get("state", "")), state):
        raise SignInFailed("the state does not match")
    if parts().clock() - float(pending.get("at", 0)) > SIGN_IN_WINDOW_SECONDS:
        raise SignInFailed("the sign-in took too long")
    try:
        token = _oauth(state=state).fetch_token(parts().client.token_url, grant_type="authorization_code",
                                                code=code, code_verifier=pending["verifier"])
    except (OAuthError, OAuth2Error, RequestException, ValueError) as exc:
        raise SignInFailed(type(exc).__name__) from None
    user = _user_of(token)
    session.clear()
    if isinstance(session, WebSession):
        session.regenerate()  # a session id planted before the sign-in is worth nothing after it
    session["user"] = user
    session["tokens"] = _tokens_of(token)
    return user


def _user_of(token: dict[str, Any]) -> dict[str, Any]:
    try:
        principal = parts().verifier.verify_for(token["access_token"], audience_of("consent"))
    except (InvalidToken, KeyError) as exc:
        raise SignInFailed(type(exc).__name__) from None
    return {"sub": principal.subject, "role": principal.role, "beneficiary": principal.beneficiary,
            "organisation": principal.organisation, "profession": principal.profession,
            "scope": sorted(principal.scopes)}


def _tokens_of(token: dict[str, Any]) -> dict[str, Any]:
    now = parts().clock()
    return {"access": token["access_token"], "refresh": token.get("refresh_token"),
            "expires_at": now + float(token.get("expires_in", 60)), "issued_at": now}


def access_token() -> str:
    """The person's access token, refreshed first when it is about to expire."""
    tokens = session.get("tokens")
    if not isinstance(tokens, dict) or current_user() is None:
        raise SignedOut()
    if tokens["expires_at"] - parts().clock() > REFRESH_MARGIN_SECONDS:
        return tokens["access"]
    if not tokens.get("refresh") or not isinstance(session, WebSession) or session.session_id is None:
        raise SignedOut()
    with parts().store.exclusive(session.session_id) as (stored, write):
        if stored is None:
            raise SignedOut()
        current = stored.get("tokens") or {}
        if current.get("refresh") and current["refresh"] != tokens["refresh"]:
            session["tokens"] = current  # another request has just refreshed them
            return current["access"]
        try:
            renewed = _oauth().refresh_token(parts().client.token_url, refresh_token=tokens["refresh"])
        except (OAuthError, OAuth2Error, RequestException, ValueError):
            stored.pop("tokens", None)
            write(stored)
            end_session()
            raise SignedOut() from None
        stored["tokens"] = _tokens_of(renewed)
        write(stored)
    session["tokens"] = stored["tokens"]
    return stored["tokens"]["access"]


def sign_out() -> None:
    """Revoke the refresh token (its whole family) and the access token, then forget them."""
    tokens = session.get("tokens") if isinstance(session.get("tokens"), dict) else {}
    oauth = _oauth()
    for kind in ("refresh", "access"):
        value = tokens.get(kind)
        if not value:
            continue
        try:
            oauth.revoke_token(parts().client.revoke_url, token=value, token_type_hint=f"{kind}_token")
        except (OAuthError, OAuth2Error, RequestException):
            pass  # the session goes anyway; an unrevoked access token expires within minutes
    end_session()


def end_session() -> None:
    """Forget everything, and let the session id go too (the next page starts a new one)."""
    session.clear()
    if isinstance(session, WebSession):
        session.regenerate()
