"""Authorization codes, refresh tokens (rotated, in families) and revoked access tokens.

Codes and refresh tokens are stored as SHA-256 hashes: a copy of the database gives no usable
token."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, TokenMixin
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.gateway.adapters.orm import authorization_codes, refresh_tokens, revoked_access_tokens


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class AuthorizationCode(AuthorizationCodeMixin):
    client_id: str
    user_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> None:
        return None


@dataclass(frozen=True)
class RefreshToken(TokenMixin):
    token_hash: str
    family_id: str
    client_id: str
    user_id: str
    scope: str
    expires_at: float
    revoked: bool

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(self.expires_at - time.time())

    def is_expired(self) -> bool:
        return self.expires_at <= time.time()

    def is_revoked(self) -> bool:
        return self.revoked


class AuthorizationCodes:
    def __init__(self, sessions: sessionmaker[Session], ttl_seconds: float = 60.0) -> None:
        self.sessions = sessions
        self.ttl = ttl_seconds

    def save(self, code: str, **values: str) -> None:
        with self.sessions() as session, session.begin():
            session.execute(
                insert(authorization_codes).values(
                    code_hash=digest(code), expires_at=time.time() + self.ttl, **values
                )
            )

    def take(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The code, removed as it is read: a code works once."""
        with self.sessions() as session, session.begin():
            row = session.execute(
                select(authorization_codes).where(authorization_codes.c.code_hash == digest(code))
            ).mappings().first()
            if row is None:
                return None
            session.execute(delete(authorization_codes).where(authorization_codes.c.code_hash == row["code_hash"]))
        if row["client_id"] != client_id or row["expires_at"] <= time.time():
            return None
        values = {k: v for k, v in row.items() if k != "code_hash"}
        return AuthorizationCode(**values)


class RefreshTokens:
    def __init__(self, sessions: sessionmaker[Session], ttl_seconds: float, revoked: RevokedAccessTokens) -> None:
        self.sessions = sessions
        self.ttl = ttl_seconds
        self.revoked_access = revoked

    def save(
        self, token: str, *, family_id: str | None, client_id: str, user_id: str, scope: str,
        access_jti: str | None, access_expires_at: float | None,
    ) -> None:
        now = time.time()
        with self.sessions() as session, session.begin():
            session.execute(
                insert(refresh_tokens).values(
                    token_hash=digest(token), family_id=family_id or str(uuid.uuid4()), client_id=client_id,
                    user_id=user_id, scope=scope, issued_at=now, expires_at=now + self.ttl,
                    access_jti=access_jti, access_expires_at=access_expires_at,
                )
            )

    def find(self, token: str) -> RefreshToken | None:
        with self.sessions() as session:
            row = session.execute(
                select(refresh_tokens).where(refresh_tokens.c.token_hash == digest(token))
            ).mappings().first()
        return _refresh_token(row) if row else None

    def use_hash(self, token_hash: str) -> bool:
        """Mark the token used (rotation); False when it was used or revoked already."""
        with self.sessions() as session, session.begin():
            claimed = session.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_(None),
                       refresh_tokens.c.revoked_at.is_(None))
                .values(used_at=time.time())
            ).rowcount
        return claimed == 1

    def revoke_family(self, family_id: str) -> None:
        with self.sessions() as session, session.begin():
            self._revoke_family(session, family_id, time.time())

    def _revoke_family(self, session: Session, family_id: str, now: float) -> None:
        session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        issued = session.execute(
            select(refresh_tokens.c.access_jti, refresh_tokens.c.access_expires_at).where(
                refresh_tokens.c.family_id == family_id, refresh_tokens.c.access_jti.is_not(None),
                refresh_tokens.c.access_expires_at > now,
            )
        ).all()
        for jti, expires_at in issued:
            self.revoked_access.add_in(session, jti, expires_at)


def _refresh_token(row) -> RefreshToken:
    return RefreshToken(
        token_hash=row["token_hash"], family_id=row["family_id"], client_id=row["client_id"],
        user_id=row["user_id"], scope=row["scope"], expires_at=row["expires_at"],
        revoked=row["revoked_at"] is not None or row["used_at"] is not None,
    )


class RevokedAccessTokens:
    """The ids of access tokens revoked before their expiry. The gateway refuses them; each
    process rereads the list at most every ``refresh_seconds`` and knows its own revocations
    at once."""

    def __init__(
        self, sessions: sessionmaker[Session], refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._known: set[str] = set()
        self._local: dict[str, float] = {}  # revoked here, known before the database is reread
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def add(self, jti: str, expires_at: float) -> None:
        with self.sessions() as session, session.begin():
            self.add_in(session, jti, expires_at)

    def add_in(self, session: Session, jti: str, expires_at: float) -> None:
        exists = session.execute(
            select(revoked_access_tokens.c.jti).where(revoked_access_tokens.c.jti == jti)
        ).first()
        if exists is None:
            session.execute(insert(revoked_access_tokens).values(jti=jti, expires_at=expires_at))
        with self._lock:
            self._local[jti] = expires_at

    def is_revoked(self, jti: str) -> bool:
        now = self.clock()
        with self._lock:
            stale = now - self._read_at > self.refresh_seconds
        if stale:
            with self.sessions() as session, session.begin():
                session.execute(delete(revoked_access_tokens).where(revoked_access_tokens.c.expires_at < now - 60))
                known = set(session.execute(select(revoked_access_tokens.c.jti)).scalars())
            with self._lock:
                self._known = known
                self._local = {j: exp for j, exp in self._local.items() if exp > now and j not in known}
                self._read_at = now
        with self._lock:
            return jti in self._known or jti in self._local
