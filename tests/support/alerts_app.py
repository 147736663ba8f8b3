"""An alerts app for tests, beside a record app and a consent app, each with its own database
(SQLite files or PostgreSQL) and one clock the test moves by hand. The journey is written
through the record API; its ``record.*`` events reach the alerts service through the very
handlers the alerts worker runs (``services.alerts.consumers``), consent's events reach both
projections the same way, and the alerts' own events can be handed to the record service's
consumer: the tests exercise the real contracts, without sleeping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from services.alerts import consumers
from services.alerts.adapters import orm
from services.alerts.app import create_app
from services.alerts.handlers import scan as scanning
from services.alerts.handlers.common import AlertsContext
from services.alerts.settings import load_alerts_settings
from services.record import consumers as record_consumers
from shared.auth import StaticKeySource
from shared.bus.envelope import Envelope, decode
from shared.bus.outbox import Outbox
from shared.config import load_settings
from tests.support.consent_app import ISSUER, Tokens
from tests.support.record_app import CASE_MANAGER, Clock, RecordHarness, make_record

ALERTS_SCOPES = "alerts:read alerts:manage"


@dataclass
class AlertsHarness:
    app: Any
    client: Any
    tokens: Tokens
    engine: Engine
    record: RecordHarness
    clock: Clock
    applied: set[str] = field(default_factory=set)
    relayed: set[str] = field(default_factory=set)

    @property
    def ctx(self) -> AlertsContext:
        return self.app.extensions["relais.alerts"]

    def as_(self, subject: str, **claims: Any) -> dict[str, str]:
        return self.tokens.headers(subject, **claims)

    # -- the clock -----------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        assert self.clock.now is not None
        return self.clock.now

    def advance(self, **delta: float) -> datetime:
        self.clock.now = self.now + timedelta(**delta)
        return self.now

    # -- the bus, by hand ----------------------------------------------------------------------
    def sync(self) -> int:
        """Consent's new events to both projections, then the record's new events to alerts."""
        self.record.sync()
        handlers = consumers.consumers(self.ctx, Outbox(orm.outbox, "alerts"))
        fresh = [e for e in self.record.consent.outbox_events() if e.id not in self.applied]
        fresh += [e for e in self.record.outbox_events() if e.id not in self.applied
                  and e.type.startswith("record.")]
        for envelope in fresh:
            queue = consumers.CONSENT_QUEUE if envelope.type.startswith("consent.") else consumers.JOURNEY_QUEUE
            self.deliver(queue, envelope, handlers)
            self.applied.add(envelope.id)
        return len(fresh)

    def deliver(self, queue: str, envelope: Envelope, handlers=None) -> None:
        handlers = handlers or consumers.consumers(self.ctx, Outbox(orm.outbox, "alerts"))
        with Session(self.engine) as session, session.begin():
            handlers[queue](session, envelope)

    def to_record(self) -> int:
        """The alerts' new ``alert.*`` events to the record service's consumer."""
        fresh = [e for e in self.outbox_events() if e.type.startswith("alert.") and e.id not in self.relayed]
        for envelope in fresh:
            self.record.deliver(record_consumers.ALERTS_QUEUE, envelope)
            self.relayed.add(envelope.id)
        return len(fresh)

    def scan(self) -> scanning.ScanReport:
        return scanning.scan(self.ctx, self.now)

    # -- what the service holds ----------------------------------------------------------------
    def outbox_events(self, event_type: str | None = None) -> list[Envelope]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(orm.outbox.c.body).order_by(orm.outbox.c.id)).scalars()
            found = [decode(body.encode()) for body in rows]
        return [e for e in found if event_type is None or e.type == event_type]

    def audits(self) -> list[dict[str, Any]]:
        return [e.payload for e in self.outbox_events("audit.access_recorded")]

    def alerts(self, **where: Any) -> list[dict[str, Any]]:
        query = select(orm.alerts)
        for name, value in where.items():
            query = query.where(orm.alerts.c[name] == value)
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query.order_by(orm.alerts.c.raised_at))]

    def count(self, table) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(table)).scalar_one()

    # -- the journey, through the record API ---------------------------------------------------
    def post_record(self, path: str, body: dict[str, Any], *, by: str = "cm-1",
                    claims: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self.record.client.post(path, json=body,
                                           headers=self.record.as_(by, **(claims or CASE_MANAGER)))
        assert response.status_code == 201, response.get_json()
        self.sync()
        return response.get_json()

    def contact(self, person: str, *, ago: timedelta = timedelta(hours=1), outcome: str = "met",
                by: str = "cm-1", claims: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.post_record(f"/beneficiaries/{person}/contacts", {
            "occurred_at": (self.now - ago).isoformat(), "modality": "street_outreach",
            "outcome": outcome}, by=by, claims=claims)

    def register(self, subject: str = "cm-1", **claims: Any) -> str:
        person = self.record.register(subject, **(claims or CASE_MANAGER))
        self.sync()
        return person


def make_alerts(var_dir: Path, *, database_url: str | None = None, record_database_url: str | None = None,
                consent_database_url: str | None = None, env: Mapping[str, str] | None = None,
                start: datetime | None = None) -> AlertsHarness:
    # The consent service dates grants with the real time: the test clock starts just after.
    clock = Clock(start or (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0))
    (var_dir / "record").mkdir(parents=True, exist_ok=True)
    record = make_record(var_dir / "record", database_url=record_database_url,
                         consent_database_url=consent_database_url, clock=clock)
    url = database_url or f"sqlite:///{var_dir / 'alerts.db'}"
    environ = {"RELAIS_VAR_DIR": str(var_dir), "ALERTS_DATABASE_URL": url, "RELAIS_ISSUER": ISSUER,
               "RELAIS_LOG_LEVEL": "WARNING", **dict(env or {})}
    settings = load_settings("alerts", environ)
    tokens = Tokens("urn:relais:alerts", ALERTS_SCOPES)
    engine = create_engine(url)
    orm.metadata.create_all(engine)
    app = create_app(settings=settings, keys=StaticKeySource(tokens.key_set),
                     alerts=load_alerts_settings(settings.var_dir, environ))
    app.extensions["relais.alerts"].clock = clock
    return AlertsHarness(app, app.test_client(), tokens, engine, record, clock)


def dispose(harness: AlertsHarness) -> None:
    harness.engine.dispose()
    harness.record.engine.dispose()
    harness.record.consent.engine.dispose()
