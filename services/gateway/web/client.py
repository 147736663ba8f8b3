"""The web pages as an OAuth client of the gateway (backend for frontend): a confidential,
first-party client whose secret is derived from the gateway key, so every gateway process
knows it and nothing stores it; registered by `relais migrate` with the issuer's callback."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.gateway.adapters.clients import ClientRepository
from services.gateway.adapters.secret_box import derive_key
from shared.logs import get_logger

log = get_logger("relais.gateway.web")

WEB_CLIENT_ID = "relais-web"
WEB_CLIENT_NAME = "Relais"
# What a person may do through the pages; the token gets the part their role allows.
WEB_SCOPES = ("self", "audit:read", "record:read", "record:write", "consent:read", "consent:manage",
              "alerts:read", "alerts:manage")
CALLBACK_PATH = "/signin/callback"


@dataclass(frozen=True)
class WebClient:
    client_id: str
    secret: str
    redirect_uri: str
    authorize_url: str  # where the browser goes (the public issuer)
    token_url: str  # where the pages call, server to server
    revoke_url: str


def web_client(gateway_key: bytes, issuer: str, internal_url: str) -> WebClient:
    secret = base64.urlsafe_b64encode(derive_key(gateway_key, "web client secret")).decode().rstrip("=")
    return WebClient(
        client_id=WEB_CLIENT_ID, secret=secret, redirect_uri=issuer + CALLBACK_PATH,
        authorize_url=issuer + "/oauth/authorize", token_url=internal_url + "/oauth/token",
        revoke_url=internal_url + "/oauth/revoke",
    )


def register_web_client(sessions: sessionmaker[Session], client: WebClient) -> bool:
    """Register the pages' client, or bring it up to date (redirect URI, secret, scopes).
    `relais migrate` does it, and so does every gateway process at start, with its own key:
    a migration run elsewhere (another container) cannot leave a secret the gateway lacks.
    Returns False when the database cannot take it now (logged; the next start retries)."""
    for _attempt in range(2):  # two processes starting at once: the second one updates
        try:
            with sessions() as session, session.begin():
                ClientRepository(session).put_first_party(client.client_id, client.secret, WEB_CLIENT_NAME,
                                                          WEB_SCOPES, (client.redirect_uri,))
            return True
        except IntegrityError:
            continue
        except OperationalError as exc:
            log.warning("the web pages' client could not be registered now", error=type(exc).__name__)
            return False
    return False
