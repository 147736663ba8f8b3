"""Organisations and people's accounts; passwords hashed with Argon2id, TOTP second factor."""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken as InvalidTotp
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.gateway.adapters.orm import organisations, users
from services.gateway.adapters.secret_box import SealedValueError, SecretBox, open_totp, seal_totp
from services.gateway.domain.identities import IdentityError, User, check_code
from shared.logs import get_logger

log = get_logger("relais.gateway.identities")

_hasher = PasswordHasher()  # Argon2id with argon2-cffi's RFC 9106 low-memory profile
# Checked against when the account does not exist, so that an unknown name costs the same time
# as a wrong password.
_DECOY_HASH = _hasher.hash(base64.b32encode(os.urandom(20)).decode())
TOTP_DIGITS = 6
TOTP_STEP = 30


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DECOY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return base64.b32encode(os.urandom(20)).decode().rstrip("=")


def _totp(secret: str) -> TOTP:
    padded = secret + "=" * (-len(secret) % 8)
    return TOTP(base64.b32decode(padded), TOTP_DIGITS, SHA1(), TOTP_STEP, enforce_key_length=False)


def totp_now(secret: str, at: float | None = None) -> str:
    return _totp(secret).generate(int(at if at is not None else time.time())).decode()


def totp_step(secret: str | None, code: str, at: float | None = None) -> int | None:
    """The 30 s step whose code this is (this step, or the one before or after for clock
    drift); None when it matches none."""
    if not secret or not code.isdigit() or len(code) != TOTP_DIGITS:
        return None
    now = int(at if at is not None else time.time())
    totp = _totp(secret)
    matched = None
    for drift in (-TOTP_STEP, 0, TOTP_STEP):
        try:
            totp.verify(code.encode(), now + drift)
            matched = (now + drift) // TOTP_STEP
        except InvalidTotp:
            pass
    return matched


def totp_uri(secret: str, username: str, issuer: str = "Relais") -> str:
    return _totp(secret).get_provisioning_uri(username, issuer)


class IdentityRepository:
    """People and organisations; TOTP seeds are sealed with ``totp_seeds`` before they are
    stored and opened when an account is read."""

    def __init__(self, session: Session, totp_seeds: SecretBox) -> None:
        self.session = session
        self.totp_seeds = totp_seeds

    def create_organisation(self, code: str, name: str) -> None:
        check_code("organisation", code)
        if not name.strip():
            raise IdentityError("an organisation needs a name")
        if self.organisation_exists(code):
            raise IdentityError(f"organisation {code!r} already exists")
        self.session.execute(
            insert(organisations).values(code=code, name=name.strip(), created_at=datetime.now(UTC))
        )

    def organisation_exists(self, code: str) -> bool:
        found = self.session.execute(select(organisations.c.code).where(organisations.c.code == code))
        return found.first() is not None

    def create_user(
        self,
        username: str,
        role: str,
        password: str,
        *,
        organisation: str | None = None,
        profession: str | None = None,
        beneficiary: str | None = None,
        totp_secret: str | None = None,
    ) -> str:
        if organisation is not None and not self.organisation_exists(organisation):
            raise IdentityError(f"no organisation {organisation!r}: create it first (admin create-org)")
        user_id = str(uuid.uuid4())
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(users).values(
                        user_id=user_id,
                        username=username,
                        password_hash=hash_password(password),
                        role=role,
                        organisation=organisation,
                        profession=profession,
                        beneficiary=beneficiary,
                        totp_secret=seal_totp(self.totp_seeds, user_id, totp_secret) if totp_secret else None,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            raise IdentityError(f"the username {username!r} is taken") from None
        return user_id

    def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record that a code was used; False when this step or a later one was used already
        (a code works once)."""
        done = self.session.execute(
            update(users)
            .where(users.c.user_id == user_id,
                   (users.c.totp_last_step.is_(None)) | (users.c.totp_last_step < step))
            .values(totp_last_step=step)
        )
        self.session.commit()
        return done.rowcount == 1

    def _user(self, condition) -> User | None:
        row = self.session.execute(
            select(users).where(condition, users.c.disabled_at.is_(None))
        ).mappings().first()
        if row is None:
            return None
        return User(
            user_id=row["user_id"],
            username=row["username"],
            role=row["role"],
            password_hash=row["password_hash"],
            organisation=row["organisation"],
            profession=row["profession"],
            beneficiary=row["beneficiary"],
            totp_secret=self._totp_seed(row["user_id"], row["totp_secret"]),
        )

    def _totp_seed(self, user_id: str, sealed: str | None) -> str | None:
        if not sealed:
            return None
        try:
            return open_totp(self.totp_seeds, user_id, sealed)
        except SealedValueError:
            # Another key, or an altered row: no code can match, so the account fails closed.
            log.warning("a TOTP seed does not open with this gateway key", user_id=user_id)
            return ""

    def organisation_names(self, codes: Iterable[str]) -> dict[str, str]:
        wanted = sorted({c for c in codes if c})
        if not wanted:
            return {}
        rows = self.session.execute(select(organisations.c.code, organisations.c.name)
                                    .where(organisations.c.code.in_(wanted)))
        return {row.code: row.name for row in rows}

    def workplaces(self, user_ids: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        """The organisation and profession of each account named (never its name)."""
        wanted = sorted({u for u in user_ids if u})
        if not wanted:
            return {}
        rows = self.session.execute(select(users.c.user_id, users.c.organisation, users.c.profession)
                                    .where(users.c.user_id.in_(wanted)))
        return {row.user_id: (row.organisation, row.profession) for row in rows}

    def by_username(self, username: str) -> User | None:
        return self._user(users.c.username == username)

    def by_id(self, user_id: str) -> User | None:
        return self._user(users.c.user_id == user_id)
