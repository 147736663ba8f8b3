"""TOTP seeds are sealed at rest: the gateway's table never holds one in plain text, a sealed
seed does not open for another account, and the migration seals the seeds stored before."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from services.gateway import admin
from services.gateway.adapters.identities import IdentityRepository, hash_password
from services.gateway.adapters.secret_box import (
    SealedValueError,
    SecretBox,
    open_totp,
    seal_totp,
    totp_box,
)
from services.gateway.settings import gateway_key
from shared.config import load_settings
from shared.db.engine import get_engine, session_factory
from shared.db.migrations import downgrade, upgrade
from tests.gateway.conftest import PASSWORD


def _column(url: str, user_id: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT totp_secret FROM users WHERE user_id = :u"),
                                      {"u": user_id}).scalar_one()
    finally:
        engine.dispose()


def test_the_totp_column_holds_no_secret(gateway_env, org):
    created = admin.create_user("dora.auditor", "auditor", PASSWORD, organisation=org, totp=True)
    stored = _column(gateway_env["GATEWAY_DATABASE_URL"], created.user_id)
    seed = created.totp_secret
    assert seed and SecretBox.is_sealed(stored)
    raw = base64.b32decode(seed + "=" * (-len(seed) % 8))
    for form in (seed, seed.lower(), raw.hex(), base64.b64encode(raw).decode()):
        assert form not in stored
    repository = IdentityRepository(session_factory(get_engine(gateway_env["GATEWAY_DATABASE_URL"]))(),
                                    totp_box(gateway_key(load_settings("gateway"))))
    assert repository.by_username("dora.auditor").totp_secret == seed
    repository.session.close()


def test_a_sealed_seed_opens_only_for_its_account_and_key():
    box = totp_box(b"k" * 32)
    sealed = seal_totp(box, "user-1", "JBSWY3DPEHPK3PXP")
    assert open_totp(box, "user-1", sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(SealedValueError):
        open_totp(box, "user-2", sealed)  # copied onto another account
    with pytest.raises(SealedValueError):
        open_totp(totp_box(b"x" * 32), "user-1", sealed)  # another gateway key
    tampered = sealed[:-3] + ("AAA" if sealed[-3:] != "AAA" else "BBB")
    with pytest.raises(SealedValueError):
        open_totp(box, "user-1", tampered)


def test_a_seed_that_does_not_open_fails_closed(gateway_env, org):
    created = admin.create_user("dora.auditor", "auditor", PASSWORD, organisation=org, totp=True)
    sessions = session_factory(get_engine(gateway_env["GATEWAY_DATABASE_URL"]))
    repository = IdentityRepository(sessions(), totp_box(b"another key, 32 bytes long!!!!!!"))
    user = repository.by_id(created.user_id)
    repository.session.close()
    assert user.totp_secret == "" and user.needs_second_factor


def test_the_migration_seals_plain_seeds_and_the_downgrade_opens_them(gateway_env, tmp_path):
    url = f"sqlite:///{tmp_path / 'old-gateway.db'}"
    upgrade("gateway", url, "gateway_0002")
    user_id = str(uuid.uuid4())
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (user_id, username, password_hash, role, totp_secret, created_at) "
            "VALUES (:u, 'old.auditor', :p, 'auditor', 'JBSWY3DPEHPK3PXP', :t)"),
            {"u": user_id, "p": hash_password(PASSWORD), "t": datetime.now(UTC)})
    engine.dispose()
    upgrade("gateway", url)
    sealed = _column(url, user_id)
    assert SecretBox.is_sealed(sealed) and "JBSWY3DPEHPK3PXP" not in sealed
    assert open_totp(totp_box(gateway_key(load_settings("gateway"))), user_id, sealed) == "JBSWY3DPEHPK3PXP"
    upgrade("gateway", url)  # again: nothing is sealed twice
    assert _column(url, user_id) == sealed
    downgrade("gateway", url, "gateway_0002")
    assert _column(url, user_id) == "JBSWY3DPEHPK3PXP"
