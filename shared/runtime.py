"""What every service builds from its settings: engine, sessions, outbox, verifier, relay,
consumers and readiness checks. A service's ``app.py`` and ``worker.py`` start here, so all
services are wired the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, MetaData, Table
from sqlalchemy.orm import Session, sessionmaker

from shared.auth import KeySource, StaticKeySource, TokenVerifier, audience_of
from shared.bus.consumer import Consumer, Handler
from shared.bus.outbox import Outbox
from shared.bus.relay import OutboxRelay
from shared.bus.topology import broker_reachable
from shared.config import Settings
from shared.db.engine import database_reachable, get_engine, session_factory


@dataclass
class ServiceRuntime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    # For a read whose only write is its audit event: each statement commits on its own (no
    # BEGIN, no COMMIT round trip), so the event is durable once its INSERT returns, and the
    # answer, built after it, is never given without it. See docs/architecture.md, "Reads".
    read_sessions: sessionmaker[Session]
    outbox_table: Table | None
    processed_table: Table | None
    outbox: Outbox | None
    _verifier: TokenVerifier | None = field(default=None, repr=False)

    @property
    def service(self) -> str:
        return self.settings.service

    def readiness(self, *, broker: bool = True) -> dict[str, Callable[[], bool]]:
        checks: dict[str, Callable[[], bool]] = {"database": lambda: database_reachable(self.engine)}
        if broker:
            checks["broker"] = lambda: broker_reachable(self.settings.bus.amqp_url)
        return checks

    def verifier(self, keys: KeySource | StaticKeySource | None = None) -> TokenVerifier:
        if keys is not None or self._verifier is None:
            if keys is None:
                # Fetched as the process starts, so the first calls find the keys in hand.
                keys = KeySource(self.settings.jwks_url)
                keys.refresh_in_background()
            self._verifier = TokenVerifier(
                keys,
                issuer=self.settings.issuer,
                audience=audience_of(self.service),
            )
        return self._verifier

    @property
    def heartbeat_file(self) -> Path:
        run_dir = self.settings.var_dir / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        return run_dir / f"{self.service}-worker.heartbeat"

    def relay(self) -> OutboxRelay:
        assert self.outbox_table is not None, f"{self.service} has no outbox"
        bus = self.settings.bus
        return OutboxRelay(
            self.engine,
            self.outbox_table,
            bus.amqp_url,
            retry_delays=bus.retry_delays,
            batch_size=bus.relay_batch,
            poll_seconds=bus.relay_poll_seconds,
            heartbeat_file=self.heartbeat_file,
            retention_seconds=bus.outbox_retention_hours * 3600,
        )

    def consumer(self, queue: str, handler: Handler) -> Consumer:
        assert self.processed_table is not None, f"{self.service} keeps no processed events"
        bus = self.settings.bus
        return Consumer(
            queue,
            handler,
            self.engine,
            self.processed_table,
            bus.amqp_url,
            prefetch=bus.prefetch,
            batch_size=bus.consumer_batch,
            max_attempts=bus.max_attempts,
            retry_delays=bus.retry_delays,
            heartbeat_file=self.heartbeat_file,
        )


def build_runtime(settings: Settings, metadata: MetaData) -> ServiceRuntime:
    engine = get_engine(settings.database_url)
    outbox_table = metadata.tables.get("outbox")
    processed_table = metadata.tables.get("processed_events")
    return ServiceRuntime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        read_sessions=session_factory(engine.execution_options(isolation_level="AUTOCOMMIT")),
        outbox_table=outbox_table,
        processed_table=processed_table,
        outbox=Outbox(outbox_table, settings.service) if outbox_table is not None else None,
    )


def create_app_for(
    settings: Settings,
    metadata: MetaData,
    *,
    title: str,
    blueprints: Iterable[Any],
    config: Mapping[str, Any] | None = None,
    keys: KeySource | StaticKeySource | None = None,
    broker: bool = True,
) -> Flask:
    """The Flask app of a service: the shared HTTP side plus its runtime and token verifier."""
    from shared.web.app_factory import create_service_app

    runtime = build_runtime(settings, metadata)
    app = create_service_app(
        settings,
        title=title,
        blueprints=blueprints,
        readiness=runtime.readiness(broker=broker),
        config=config,
    )
    app.extensions["relais.runtime"] = runtime
    app.extensions["relais.verifier"] = runtime.verifier(keys)
    return app


def run_worker(
    service: str,
    metadata: MetaData,
    consumers: Mapping[str, Handler] | Callable[[ServiceRuntime], Mapping[str, Handler]] | None = None,
    *,
    relay: bool = True,
    parts: Callable[[ServiceRuntime], list[Any]] | None = None,
) -> None:
    """The worker process of a service: its outbox relay and its consumers, until signalled.
    ``consumers`` maps queues to handlers, or is a function of the runtime that does (for
    handlers that write to the service's own outbox). ``parts`` adds the service's own
    periodic work (anything with ``run()`` and ``stop()``), on threads beside them."""
    from shared.bus.worker import run_until_signalled
    from shared.config import load_settings
    from shared.logs import configure_logging

    settings = load_settings(service)
    configure_logging(f"{service}-worker", settings.log_level, settings.log_format)
    runtime = build_runtime(settings, metadata)
    running: list[Any] = [runtime.relay()] if relay else []
    handlers = consumers(runtime) if callable(consumers) else (consumers or {})
    running.extend(runtime.consumer(queue, handler) for queue, handler in handlers.items())
    if parts is not None:
        running.extend(parts(runtime))
    run_until_signalled(service, running)
