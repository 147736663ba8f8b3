"""OAuth clients: stored with a hash of their secret, never the secret itself."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from services.gateway.adapters.orm import clients

PUBLIC = "none"  # a client that cannot keep a secret (a phone or browser app): PKCE only
CONFIDENTIAL_METHODS = ("client_secret_basic", "client_secret_post")


def hash_secret(secret: str) -> str:
    # Client secrets are 256-bit random values: a plain SHA-256 resists search; passwords of
    # people use Argon2id instead.
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class Client(ClientMixin):
    client_id: str
    secret_hash: str = field(repr=False)
    name: str
    organisation: str | None
    profession: str | None
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...] = ()
    auth_method: str = "client_secret_basic"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OAuth 2.1: the redirect URI is always named and compared exactly.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """Every registered scope when none is asked; None (invalid_scope) when more is asked."""
        if not scope:
            return " ".join(self.scopes)
        asked = scope.split()
        if not set(asked) <= set(self.scopes):
            return None
        return " ".join(dict.fromkeys(asked))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match, no prefix, no wildcard

    def check_client_secret(self, client_secret: str) -> bool:
        if self.auth_method == PUBLIC:
            return False
        return hmac.compare_digest(hash_secret(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.auth_method == PUBLIC:
            return method == PUBLIC
        return method in CONFIDENTIAL_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


class ClientRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, client_id: str) -> Client | None:
        row = self.session.execute(
            select(clients).where(clients.c.client_id == client_id, clients.c.revoked_at.is_(None))
        ).mappings().first()
        if row is None:
            return None
        return Client(
            client_id=row["client_id"],
            secret_hash=row["secret_hash"],
            name=row["name"],
            organisation=row["organisation"],
            profession=row["profession"],
            scopes=tuple(row["scopes"].split()),
            grant_types=tuple(row["grant_types"].split()),
            redirect_uris=tuple(row["redirect_uris"].split()),
            auth_method=row["auth_method"],
        )

    def create(
        self,
        name: str,
        scopes: list[str],
        *,
        organisation: str | None,
        profession: str | None,
        grant_types: tuple[str, ...] = ("client_credentials",),
        redirect_uris: tuple[str, ...] = (),
        public: bool = False,
    ) -> tuple[str, str | None]:
        """Register a client; returns (client_id, secret). The secret is shown once; a public
        client has none."""
        client_id = "rc_" + secrets.token_urlsafe(12)
        secret = None if public else secrets.token_urlsafe(32)
        self.session.execute(
            insert(clients).values(
                client_id=client_id,
                secret_hash=hash_secret(secret) if secret else "",
                name=name,
                organisation=organisation,
                profession=profession,
                scopes=" ".join(scopes),
                grant_types=" ".join(grant_types),
                redirect_uris=" ".join(redirect_uris),
                auth_method=PUBLIC if public else "client_secret_basic",
                created_at=datetime.now(UTC),
            )
        )
        return client_id, secret

    def put_first_party(self, client_id: str, secret: str, name: str, scopes: tuple[str, ...],
                        redirect_uris: tuple[str, ...]) -> None:
        """Register (or bring up to date) a client of the gateway's own: the web pages."""
        values = dict(secret_hash=hash_secret(secret), name=name, organisation=None, profession=None,
                      scopes=" ".join(scopes), grant_types="authorization_code refresh_token",
                      redirect_uris=" ".join(redirect_uris), auth_method="client_secret_basic",
                      revoked_at=None)
        done = self.session.execute(update(clients).where(clients.c.client_id == client_id).values(**values))
        if done.rowcount == 0:
            self.session.execute(insert(clients).values(client_id=client_id, created_at=datetime.now(UTC),
                                                        **values))
