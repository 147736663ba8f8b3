"""All OAuth wiring of the gateway in one place, on Authlib: the authorization server, its
grants (authorization code with PKCE S256, client credentials, rotating refresh tokens), the
revocation and introspection endpoints and the RFC 9068 JWT access-token generator.

No implicit grant and no password grant are registered (OAuth 2.1)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, TokenMixin, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import Flask
from joserfc import jws

from services.gateway.adapters.clients import Client, ClientRepository
from services.gateway.adapters.identities import IdentityRepository
from services.gateway.adapters.secret_box import SecretBox
from services.gateway.adapters.signing_keys import ALGORITHM, KeyStore
from services.gateway.adapters.tokens import (
    AuthorizationCodes,
    RefreshToken,
    RefreshTokens,
    RevokedAccessTokens,
)
from services.gateway.domain.identities import User
from services.gateway.domain.scopes import SCOPES, scopes_beyond_role, within_role
from shared.auth import InvalidToken, TokenVerifier, audience_of
from shared.config import SERVICES

RESOURCE_SERVICES = tuple(s for s in SERVICES if s != "gateway")
TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


@dataclass
class OAuthParts:
    """What the gateway's views need besides the server itself."""

    server: AuthorizationServer
    identities: Any  # callable returning an IdentityRepository on a new session
    refresh_tokens: RefreshTokens
    revoked: RevokedAccessTokens


class RelaisTokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 access tokens signed with the newest gateway key, for every service, carrying
    the claims the services read (role, org, profession, beneficiary)."""

    def __init__(self, issuer: str, keys: KeyStore, ttl_seconds: int) -> None:
        super().__init__(
            issuer,
            alg=ALGORITHM,
            refresh_token_generator=lambda *_, **__: secrets.token_urlsafe(48),
            expires_generator=lambda *_, **__: ttl_seconds,
        )
        self.keys = keys

    def get_jwks(self):
        return self.keys.signing_key()

    def get_audiences(self, client, user, scope):
        # Each service checks that its own identifier is in `aud` (not the client id).
        return [audience_of(s) for s in RESOURCE_SERVICES]

    def get_extra_claims(self, client: Client, grant_type, user: User | None, scope):
        if user is None:
            claims = {"role": "system", "org": client.organisation, "profession": client.profession}
        else:
            claims = {"role": user.role, "org": user.organisation, "profession": user.profession,
                      "beneficiary": user.beneficiary}
        return {k: v for k, v in claims.items() if v}


class S256CodeChallenge(CodeChallenge):
    """PKCE on every authorization request, S256 only (no `plain`)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        return super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code):
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code):
        return authorization_code.code_challenge_method


class AccessToken(TokenMixin):
    """A JWT access token of ours, seen by revocation and introspection."""

    def __init__(self, claims: dict[str, Any], revoked: bool) -> None:
        self.claims = claims
        self.revoked = revoked

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.claims.get("client_id")

    def get_scope(self) -> str:
        return str(self.claims.get("scope", ""))

    def get_expires_in(self) -> int:
        return int(self.claims["exp"]) - int(self.claims["iat"])

    def is_expired(self) -> bool:
        return False  # the verifier has refused expired tokens already

    def is_revoked(self) -> bool:
        return self.revoked


def init_oauth(
    app: Flask,
    sessions,
    keys: KeyStore,
    verifier: TokenVerifier,
    issuer: str,
    ttl_seconds: int,
    refresh_ttl_seconds: int,
    revocation_refresh_seconds: float = 2.0,
    *,
    totp_seeds: SecretBox,
) -> OAuthParts:
    codes = AuthorizationCodes(sessions)
    revoked = RevokedAccessTokens(sessions, revocation_refresh_seconds)
    refresh_tokens = RefreshTokens(sessions, refresh_ttl_seconds, revoked)

    def identities() -> IdentityRepository:
        return IdentityRepository(sessions(), totp_seeds)

    def user_by_id(user_id: str) -> User | None:
        repository = identities()
        try:
            return repository.by_id(user_id)
        finally:
            repository.session.close()

    def query_client(client_id: str) -> Client | None:
        with sessions() as session:
            return ClientRepository(session).get(client_id)

    def save_token(token: dict, request) -> None:
        if "refresh_token" not in token:
            return  # access tokens are self-contained JWTs
        claims = json.loads(jws.extract_compact(token["access_token"].encode()).payload)
        previous = request.refresh_token if isinstance(request.refresh_token, RefreshToken) else None
        refresh_tokens.save(
            token["refresh_token"],
            family_id=previous.family_id if previous else None,
            client_id=request.client.get_client_id(),
            user_id=request.user.get_user_id(),
            scope=token.get("scope", ""),
            access_jti=claims["jti"],
            access_expires_at=float(claims["exp"]),
        )

    def token_of(token_string: str) -> RefreshToken | AccessToken | None:
        stored = refresh_tokens.find(token_string)
        if stored is not None:
            return stored
        try:
            principal = verifier.inspect(token_string)
        except InvalidToken:
            return None
        return AccessToken(principal.claims, revoked.is_revoked(principal.token_id))

    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

        def create_authorization_response(self, redirect_uri: str, grant_user: User | None):
            if grant_user is not None:
                if self.request.payload.scope:
                    beyond = scopes_beyond_role(grant_user.role, self.request.scope.split())
                    if beyond:
                        raise InvalidScopeError(
                            f"A {grant_user.role} may not hold: {' '.join(beyond)}.", redirect_uri=redirect_uri
                        )
                else:  # no scope asked: the client's scopes that the role allows
                    allowed = within_role(grant_user.role, self.request.scope.split())
                    if not allowed:
                        raise InvalidScopeError(
                            f"This client offers nothing a {grant_user.role} may hold.", redirect_uri=redirect_uri
                        )
                    self.request.scope = " ".join(allowed)
            return super().create_authorization_response(redirect_uri, grant_user)

        def save_authorization_code(self, code: str, request) -> None:
            codes.save(
                code,
                client_id=request.client.get_client_id(),
                user_id=request.user.get_user_id(),
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope or "",
                code_challenge=request.payload.data["code_challenge"],
                code_challenge_method=request.payload.data["code_challenge_method"],
            )

        def query_authorization_code(self, code: str, client: Client):
            return codes.take(code, client.get_client_id())

        def delete_authorization_code(self, authorization_code) -> None:
            return None  # taken (deleted) when it was read: a code works once

        def authenticate_user(self, authorization_code):
            return user_by_id(authorization_code.user_id)

    class ClientCredentialsGrant(grants.ClientCredentialsGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    class RefreshTokenGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
        INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh returns a new refresh token

        def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
            stored = refresh_tokens.find(refresh_token)
            if stored is None:
                return None
            if stored.is_revoked():  # used before: a replay, so the whole sign-in is revoked
                refresh_tokens.revoke_family(stored.family_id)
                return None
            return None if stored.is_expired() else stored

        def authenticate_user(self, refresh_token: RefreshToken):
            return user_by_id(refresh_token.user_id)

        def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
            # Marked used atomically; losing a race with another refresh of the same token
            # means one of the two is a replay, and the family goes.
            if refresh_tokens.use_hash(refresh_token.token_hash) is False:
                refresh_tokens.revoke_family(refresh_token.family_id)

    class Revocation(RevocationEndpoint):
        CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

        def query_token(self, token_string, token_type_hint):
            return token_of(token_string)

        def revoke_token(self, token, request) -> None:
            if isinstance(token, RefreshToken):
                refresh_tokens.revoke_family(token.family_id)
            else:
                revoked.add(str(token.claims["jti"]), float(token.claims["exp"]))

    class Introspection(IntrospectionEndpoint):
        CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

        def query_token(self, token_string, token_type_hint):
            return token_of(token_string)

        def check_permission(self, token, client, request) -> bool:
            return token.check_client(client)  # a client looks only at its own tokens

        def introspect_token(self, token) -> dict:
            if isinstance(token, RefreshToken):
                return {"active": True, "token_type": "refresh_token", "client_id": token.client_id,
                        "scope": token.scope, "sub": token.user_id, "exp": int(token.expires_at)}
            claims = {k: token.claims[k] for k in ("iss", "sub", "aud", "exp", "iat", "jti", "client_id",
                                                  "scope", "role", "org", "profession", "beneficiary")
                      if k in token.claims}
            return {"active": True, "token_type": "access_token", **claims}

    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.scopes_supported = sorted(SCOPES)
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    server.register_token_generator("default", RelaisTokenGenerator(issuer, keys, ttl_seconds))
    return OAuthParts(server=server, identities=identities, refresh_tokens=refresh_tokens, revoked=revoked)
