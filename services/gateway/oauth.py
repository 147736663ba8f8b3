"""All OAuth wiring of the gateway in one place, on Authlib: the authorization server, its
grants and the RFC 9068 JWT access-token generator."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import Flask

from services.gateway.adapters.clients import Client, ClientRepository
from services.gateway.adapters.signing_keys import ALGORITHM, KeyStore
from shared.auth import audience_of
from shared.config import SERVICES

RESOURCE_SERVICES = tuple(s for s in SERVICES if s != "gateway")


class RelaisTokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 access tokens signed with the newest gateway key, for every service."""

    def __init__(self, issuer: str, keys: KeyStore, ttl_seconds: int) -> None:
        super().__init__(issuer, alg=ALGORITHM, expires_generator=lambda *_: ttl_seconds)
        self.keys = keys

    def get_jwks(self):
        return self.keys.signing_key()

    def get_audiences(self, client, user, scope):
        # Each service checks that its own identifier is in `aud`.
        return [audience_of(s) for s in RESOURCE_SERVICES]

    def get_extra_claims(self, client: Client, grant_type, user, scope):
        claims = {"role": "system"}
        if client.organisation:
            claims["org"] = client.organisation
        if client.profession:
            claims["profession"] = client.profession
        return claims


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def init_oauth(app: Flask, sessions, keys: KeyStore, issuer: str, ttl_seconds: int) -> AuthorizationServer:
    def query_client(client_id: str) -> Client | None:
        with sessions() as session:
            return ClientRepository(session).get(client_id)

    def save_token(token, request) -> None:
        # Access tokens are self-contained JWTs; nothing to store for this grant.
        return None

    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_grant(ClientCredentialsGrant)
    server.register_token_generator("default", RelaisTokenGenerator(issuer, keys, ttl_seconds))
    return server
