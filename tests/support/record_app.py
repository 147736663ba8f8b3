"""A record app for tests, beside a consent app, each with its own database (SQLite files or
PostgreSQL). Consent's outbox events reach record's projection through the very handler the
record worker runs (``services.record.consumers``), so the tests exercise the real contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from services.record import consumers
from services.record.adapters import orm
from services.record.app import create_app
from services.record.settings import load_record_settings
from shared.auth import StaticKeySource
from shared.bus.envelope import Envelope, decode
from shared.bus.outbox import Outbox
from shared.config import load_settings
from tests.support.consent_app import ISSUER, ConsentHarness, Tokens, make_consent

CASE_MANAGER = {"org": "org-cpas", "profession": "case_manager"}
RECORD_SCOPES = "record:read record:write"


class Clock:
    """The record service's clock: the real time, until a test sets ``now`` by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


@dataclass
class RecordHarness:
    app: Any
    client: Any
    tokens: Tokens
    engine: Engine
    consent: ConsentHarness
    clock: Clock
    applied: set[str] = field(default_factory=set)

    def as_(self, subject: str, **claims: Any) -> dict[str, str]:
        return self.tokens.headers(subject, **claims)

    def sync(self) -> int:
        """Deliver consent's new events to record's consumer, as the bus would."""
        handler = consumers.consumers(Outbox(orm.outbox, "record"))[consumers.CONSENT_QUEUE]
        fresh = [e for e in self.consent.outbox_events() if e.id not in self.applied]
        with Session(self.engine) as session, session.begin():
            for envelope in fresh:
                handler(session, envelope)
                self.applied.add(envelope.id)
        return len(fresh)

    def deliver(self, queue: str, envelope: Envelope) -> None:
        handler = consumers.consumers(Outbox(orm.outbox, "record"))[queue]
        with Session(self.engine) as session, session.begin():
            handler(session, envelope)

    def outbox_events(self, event_type: str | None = None) -> list[Envelope]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(orm.outbox.c.body).order_by(orm.outbox.c.id)).scalars()
            found = [decode(body.encode()) for body in rows]
        return [e for e in found if event_type is None or e.type == event_type]

    def audits(self) -> list[dict[str, Any]]:
        return [e.payload for e in self.outbox_events("audit.access_recorded")]

    # -- consent, through the consent API --------------------------------------------------------
    def register(self, subject: str = "cm-1", **claims: Any) -> str:
        claims = claims or CASE_MANAGER
        response = self.consent.client.post("/beneficiaries", headers=self.consent.as_(subject, **claims))
        assert response.status_code == 201, response.get_json()
        self.sync()
        return response.get_json()["id"]

    def grant(self, beneficiary_id: str, *, by: str = "cm-1", by_claims: Mapping[str, Any] | None = None,
              **body: Any) -> dict[str, Any]:
        response = self.consent.client.post(
            f"/beneficiaries/{beneficiary_id}/grants", json=body,
            headers=self.consent.as_(by, **(by_claims or CASE_MANAGER)))
        assert response.status_code == 201, response.get_json()
        self.sync()
        return response.get_json()

    def consent_post(self, path: str, body: dict[str, Any] | None = None, *, by: str = "cm-1",
                     claims: Mapping[str, Any] | None = None, expect: int | tuple[int, ...] = (200, 201, 202)):
        response = self.consent.client.post(path, json=body or {},
                                            headers=self.consent.as_(by, **(claims or CASE_MANAGER)))
        expected = (expect,) if isinstance(expect, int) else expect
        assert response.status_code in expected, response.get_json()
        self.sync()
        return response.get_json()


def make_record(var_dir: Path, *, database_url: str | None = None,
                consent_database_url: str | None = None, clock: Clock | None = None,
                env: Mapping[str, str] | None = None) -> RecordHarness:
    (var_dir / "consent").mkdir(parents=True, exist_ok=True)
    consent = make_consent(var_dir / "consent", consent_database_url,
                           env={"CONSENT_WITHDRAWAL_MODE": "eventual", **dict(env or {})})
    url = database_url or f"sqlite:///{var_dir / 'record.db'}"
    environ = {"RELAIS_VAR_DIR": str(var_dir), "RECORD_DATABASE_URL": url, "RELAIS_ISSUER": ISSUER,
               "RELAIS_LOG_LEVEL": "WARNING", **dict(env or {})}
    settings = load_settings("record", environ)
    tokens = Tokens("urn:relais:record", RECORD_SCOPES)
    engine = create_engine(url)
    orm.metadata.create_all(engine)
    app = create_app(settings=settings, keys=StaticKeySource(tokens.key_set),
                     record=load_record_settings(settings.var_dir, environ))
    clock = clock or Clock()
    app.extensions["relais.record"].clock = clock
    return RecordHarness(app, app.test_client(), tokens, engine, consent, clock)
