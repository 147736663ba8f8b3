"""A consent app for tests: its own tokens (ES256, signed here), a SQLite or PostgreSQL
database, and a projection fed from the consent outbox, as another service would keep it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import Engine, MetaData, create_engine, select
from sqlalchemy.orm import Session

from services.consent.adapters import orm
from services.consent.app import create_app
from services.consent.settings import load_consent_settings
from shared.auth import StaticKeySource
from shared.bus.envelope import decode
from shared.bus.schema import add_bus_tables
from shared.config import load_settings
from shared.consent.projection import ConsentProjection

ISSUER = "http://issuer.test"


class Tokens:
    def __init__(self, audience: str = "urn:relais:consent",
                 scopes: str = "consent:read consent:manage") -> None:
        self.audience = audience
        self.scopes = scopes
        self.key = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "sig", "alg": "ES256"})
        self.key_set = KeySet([self.key])

    def token(self, subject: str, *, role: str = "professional", org: str | None = None,
              profession: str | None = None, beneficiary: str | None = None,
              scopes: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER, "aud": [self.audience], "sub": subject, "client_id": "test",
            "jti": uuid.uuid4().hex, "iat": now, "exp": now + 600,
            "scope": self.scopes if scopes is None else scopes, "role": role,
        }
        if org:
            claims["org"] = org
        if profession:
            claims["profession"] = profession
        if beneficiary:
            claims["beneficiary"] = beneficiary
        return jwt.encode({"alg": "ES256", "kid": "k1", "typ": "at+jwt"}, claims, self.key)

    def headers(self, subject: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, **kwargs)}"}


@dataclass
class ConsentHarness:
    app: Any
    client: Any
    tokens: Tokens
    engine: Engine

    def as_(self, subject: str, **kwargs: Any) -> dict[str, str]:
        return self.tokens.headers(subject, **kwargs)

    def outbox_events(self) -> list:
        with self.engine.connect() as connection:
            rows = connection.execute(select(orm.outbox.c.body).order_by(orm.outbox.c.id)).scalars()
            return [decode(body.encode()) for body in rows]


def environment(var_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    # No other service's projection runs beside this app unless a test says so.
    return {"RELAIS_VAR_DIR": str(var_dir), "CONSENT_DATABASE_URL": database_url,
            "RELAIS_ISSUER": ISSUER, "RELAIS_LOG_LEVEL": "WARNING",
            "CONSENT_STRICT_PROJECTIONS": "", **extra}


def make_consent(var_dir: Path, database_url: str | None = None, *, create_schema: bool = True,
                 env: Mapping[str, str] | None = None) -> ConsentHarness:
    url = database_url or f"sqlite:///{var_dir / 'consent.db'}"
    environ = environment(var_dir, url, **dict(env or {}))
    settings = load_settings("consent", environ)
    tokens = Tokens()
    engine = create_engine(url)
    if create_schema:
        orm.metadata.create_all(engine)
    app = create_app(settings=settings, keys=StaticKeySource(tokens.key_set),
                     consent=load_consent_settings(settings.var_dir, environ))
    return ConsentHarness(app, app.test_client(), tokens, engine)


class LocalProjection:
    """Another service's projection in its own database, fed with consent's events."""

    def __init__(self, url: str) -> None:
        self.metadata = MetaData()
        self.projection = ConsentProjection(self.metadata)
        _outbox, self.processed = add_bus_tables(self.metadata)
        self.engine = create_engine(url)
        self.metadata.create_all(self.engine)
        self.handler = self.projection.handler()
        self.applied: set[str] = set()

    def feed(self, envelopes: list) -> None:
        with Session(self.engine) as session, session.begin():
            for envelope in envelopes:
                if envelope.id in self.applied:
                    continue
                self.handler(session, envelope)
                self.applied.add(envelope.id)

    def state(self, beneficiary_id: str):
        with Session(self.engine) as session:
            return self.projection.state(session, beneficiary_id)

    def teams_of(self, subject: str) -> frozenset[str]:
        with Session(self.engine) as session:
            return self.projection.teams_of(session, subject)
