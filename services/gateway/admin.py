"""Administration of the gateway (run from the `relais admin` and `relais keys` commands):
organisations, people's accounts, OAuth clients, signing keys."""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.adapters.clients import ClientRepository
from services.gateway.adapters.identities import IdentityRepository, new_totp_secret, totp_uri
from services.gateway.adapters.secret_box import totp_box
from services.gateway.app import key_store
from services.gateway.domain.identities import IdentityError, check_code, check_new_user
from services.gateway.domain.scopes import unknown_scopes
from services.gateway.settings import gateway_key, load_gateway_settings
from shared.config import load_settings
from shared.db.engine import get_engine, session_factory


@dataclass(frozen=True)
class NewUser:
    user_id: str
    totp_secret: str | None
    totp_uri: str | None


def _sessions():
    settings = load_settings("gateway")
    return session_factory(get_engine(settings.database_url))


def _identities(session) -> IdentityRepository:
    return IdentityRepository(session, totp_box(gateway_key(load_settings("gateway"))))


def create_organisation(code: str, name: str) -> None:
    with _sessions()() as session, session.begin():
        _identities(session).create_organisation(code, name)


def create_user(
    username: str,
    role: str,
    password: str,
    *,
    organisation: str | None = None,
    profession: str | None = None,
    beneficiary: str | None = None,
    totp: bool = False,
) -> NewUser:
    check_new_user(username, role, password, organisation=organisation, profession=profession,
                   beneficiary=beneficiary, totp=totp)
    secret = new_totp_secret() if totp else None
    with _sessions()() as session, session.begin():
        user_id = _identities(session).create_user(
            username, role, password, organisation=organisation, profession=profession,
            beneficiary=beneficiary, totp_secret=secret,
        )
    return NewUser(user_id, secret, totp_uri(secret, username) if secret else None)


def create_client(
    name: str,
    scopes: list[str],
    organisation: str | None,
    profession: str | None,
    *,
    redirect_uris: list[str] | None = None,
    public: bool = False,
) -> tuple[str, str | None]:
    """A client with redirect URIs is an application people sign in to (authorization code
    and refresh tokens); one without is an organisation's own system (client credentials)."""
    bad = unknown_scopes(scopes)
    if bad:
        raise ValueError(f"unknown scope(s): {', '.join(bad)}")
    if not scopes:
        raise ValueError("a client needs at least one scope")
    if organisation is not None:
        check_code("organisation", organisation)
    if profession is not None:
        check_code("profession", profession)
    redirect_uris = redirect_uris or []
    for uri in redirect_uris:
        if not (uri.startswith("https://") or uri.startswith("http://127.0.0.1") or uri.startswith("http://localhost")):
            raise ValueError(f"redirect URI {uri!r}: use https (http only for 127.0.0.1 or localhost)")
        if "#" in uri or " " in uri:
            raise ValueError(f"redirect URI {uri!r} may not hold a fragment or a space")
    if public and not redirect_uris:
        raise ValueError("a public client signs people in: give it a --redirect-uri")
    if redirect_uris:
        grants: tuple[str, ...] = ("authorization_code", "refresh_token")
    else:
        grants = ("client_credentials",)
    with _sessions()() as session, session.begin():
        return ClientRepository(session).create(
            name, scopes, organisation=organisation, profession=profession, grant_types=grants,
            redirect_uris=tuple(redirect_uris), public=public,
        )


def ensure_web_client() -> str:
    """Register the web pages' own OAuth client for this issuer (idempotent)."""
    from services.gateway.web.client import register_web_client, web_client

    settings = load_settings("gateway")
    gateway = load_gateway_settings(settings)
    client = web_client(gateway_key(settings), settings.issuer, gateway.internal_url)
    if not register_web_client(_sessions(), client):
        raise RuntimeError("the gateway database did not take the web pages' client")
    return client.client_id


def rotate_keys() -> str:
    return key_store(load_settings("gateway")).rotate()


__all__ = ["IdentityError", "NewUser", "create_client", "create_organisation", "create_user", "ensure_web_client",
           "rotate_keys"]
