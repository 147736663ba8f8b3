"""The audit worker's consumer and a source service's outbox and relay, on the real broker."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import MetaData, create_engine, func, select
from sqlalchemy.orm import Session

from services.audit.adapters.orm import audit_log, processed_events
from services.audit.consumers import QUEUE, batch_hook, on_audit_event
from services.audit.settings import AuditSettings
from shared.bus.consumer import Consumer
from shared.bus.outbox import Outbox
from shared.bus.relay import OutboxRelay
from shared.bus.schema import add_bus_tables
from shared.bus.topology import Subscription
from tests.support.audit_log import payload

SUBSCRIPTIONS = (Subscription(QUEUE, ("audit.#",)),)

source_metadata = MetaData()
source_outbox, _ = add_bus_tables(source_metadata)


class Running:
    """Run a relay or consumer on a thread for the length of a block."""

    def __init__(self, part: Any) -> None:
        self.part = part
        self.thread = threading.Thread(target=part.run, daemon=True)

    def __enter__(self) -> Any:
        self.thread.start()
        return self.part

    def __exit__(self, *exc: object) -> None:
        self.part.stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the bus part did not stop"


def audit_consumer(engine, amqp_url: str, settings: AuditSettings, **kwargs: Any) -> Consumer:
    options = {"batch_size": 200, "prefetch": 400, "retry_delays": (0.5,), **kwargs}
    return Consumer(QUEUE, on_audit_event, engine, processed_events, amqp_url,
                    subscriptions=SUBSCRIPTIONS, on_batch=batch_hook(settings), **options)


def source(url: str):
    engine = create_engine(url)
    source_metadata.create_all(engine)
    return engine


def relay(engine, amqp_url: str, **kwargs: Any) -> OutboxRelay:
    return OutboxRelay(engine, source_outbox, amqp_url, subscriptions=SUBSCRIPTIONS, **kwargs)


def write_accesses(engine, count: int, persons: list[str], producer: str = "record") -> None:
    """Each access in its own transaction, as a service writes them."""
    box = Outbox(source_outbox, producer)
    for n in range(count):
        with Session(engine) as session, session.begin():
            box.add(session, "audit.access_recorded", payload(persons[n % len(persons)], request_id=f"req-{n}"))


def log_counts(engine) -> tuple[int, int]:
    """(entries, distinct event ids) in the audit log."""
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(audit_log)).scalar_one()
        distinct = connection.execute(select(func.count(func.distinct(audit_log.c.event_id)))).scalar_one()
    return total, distinct
