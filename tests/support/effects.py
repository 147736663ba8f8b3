"""A small service built only from the shared bus library, for testing the bus against the real
broker and database. Its handler has a deliberately non-idempotent effect (one row per
application), so a test can count effects, not messages: applying an event twice would show."""

from __future__ import annotations

import os
import sys
import time

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select
from sqlalchemy.orm import Session

from shared.bus.consumer import Consumer
from shared.bus.envelope import Envelope
from shared.bus.outbox import Outbox
from shared.bus.relay import OutboxRelay
from shared.bus.schema import add_bus_tables
from shared.bus.topology import Subscription

QUEUE = "test.effects"
SUBSCRIPTIONS = (Subscription(QUEUE, ("test.#",)),)

metadata = MetaData()
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),  # no unique constraint, on purpose
    Column("n", Integer, nullable=False),
)
outbox, processed = add_bus_tables(metadata)


def make_schema(url: str):
    engine = create_engine(url)
    metadata.create_all(engine)
    return engine


class Poison(RuntimeError):
    pass


def handler(delay_seconds: float = 0.0):
    def apply(session: Session, event: Envelope) -> None:
        if event.payload.get("poison"):
            raise Poison("this event can never be applied")
        if delay_seconds:
            time.sleep(delay_seconds)
        session.execute(insert(effects).values(event_id=event.id, n=event.payload.get("n", 0)))

    return apply


def make_consumer(engine, amqp_url: str, *, delay_seconds: float = 0.0, **kwargs) -> Consumer:
    return Consumer(
        QUEUE,
        handler(delay_seconds),
        engine,
        processed,
        amqp_url,
        subscriptions=SUBSCRIPTIONS,
        **kwargs,
    )


def make_relay(engine, amqp_url: str, **kwargs) -> OutboxRelay:
    return OutboxRelay(engine, outbox, amqp_url, subscriptions=SUBSCRIPTIONS, **kwargs)


def write_events(engine, count: int, *, start: int = 0, pause: float = 0.0,
                 urgent: bool = False) -> None:
    """Each event in its own transaction, as a service would write them."""
    box = Outbox(outbox, "test")
    for n in range(start, start + count):
        with Session(engine) as session, session.begin():
            box.add(session, "test.happened", {"n": n}, urgent=urgent)
        if pause:
            time.sleep(pause)


def effect_counts(engine) -> tuple[int, int]:
    """(effects, distinct events with an effect)."""
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(effects)).scalar_one()
        distinct = connection.execute(select(func.count(func.distinct(effects.c.event_id)))).scalar_one()
    return total, distinct


if __name__ == "__main__":
    # python -m tests.support.effects <database url> <amqp url> <delay seconds>
    from shared.logs import configure_logging

    configure_logging("effects-consumer", "WARNING")
    db_url, amqp, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    consumer = make_consumer(create_engine(db_url), amqp, delay_seconds=delay, batch_size=50, prefetch=100)
    print("ready", os.getpid(), flush=True)
    consumer.run()
