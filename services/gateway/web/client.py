"""The web pages as an OAuth client of the gateway (backend for frontend): a confidential,
first-party client whose secret is derived from the gateway key, so every gateway process
knows it and nothing stores it; registered by `relais migrate` with the issuer's callback."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from services.gateway.adapters.secret_box import derive_key

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
