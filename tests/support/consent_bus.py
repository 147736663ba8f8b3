"""Consent on the real bus: the consent service's relay and acknowledgement consumer, and a
second service ("record") keeping the shared consent projection in its own database, each on a
thread, against the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import Session

from services.consent import consumers
from services.consent.adapters import orm
from shared.bus.consumer import Consumer
from shared.bus.outbox import Outbox
from shared.bus.relay import OutboxRelay
from shared.bus.schema import add_bus_tables
from shared.bus.topology import Subscription
from shared.consent.decision import Actor, Decision, Question, decide
from shared.consent.policy import Policy
from shared.consent.projection import ConsentProjection

PROJECTION_QUEUE = "record.consent"
SUBSCRIPTIONS = (
    Subscription(PROJECTION_QUEUE, ("consent.#",)),
    consumers.SUBSCRIPTION,
)


class ProjectionService:
    """What the record service will run: the projection tables, their consumer, an outbox for
    acknowledgements and its relay."""

    def __init__(self, url: str, amqp_url: str, *, acknowledge: bool = True) -> None:
        self.metadata = MetaData()
        self.projection = ConsentProjection(self.metadata)
        outbox_table, processed = add_bus_tables(self.metadata)
        self.engine = create_engine(url, pool_size=20)
        self.metadata.create_all(self.engine)
        outbox = Outbox(outbox_table, "record")
        handler = self.projection.handler(acknowledge_as="record" if acknowledge else None,
                                          outbox=outbox)
        self.consumer = Consumer(PROJECTION_QUEUE, handler, self.engine, processed, amqp_url,
                                 prefetch=50, batch_size=50, idle_flush_seconds=0.005,
                                 subscriptions=SUBSCRIPTIONS)
        self.relay = OutboxRelay(self.engine, outbox_table, amqp_url, poll_seconds=0.005,
                                 subscriptions=SUBSCRIPTIONS)

    def decide(self, actor: Actor, question: Question, policy: Policy) -> Decision:
        with Session(self.engine) as session:
            return decide(self.projection.state(session, question.beneficiary_id), actor,
                          question, policy)


def consent_parts(consent_url: str, amqp_url: str) -> list:
    engine = create_engine(consent_url, pool_size=10)
    relay = OutboxRelay(engine, orm.outbox, amqp_url, poll_seconds=0.005, subscriptions=SUBSCRIPTIONS)
    acks = Consumer(consumers.ACKS_QUEUE, consumers.projection_acknowledged, engine,
                    orm.processed_events, amqp_url, idle_flush_seconds=0.005,
                    subscriptions=SUBSCRIPTIONS)
    return [relay, acks]


@dataclass
class Running:
    parts: list
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Running:
        for part in self.parts:
            thread = threading.Thread(target=part.run, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        for part in self.parts:
            part.stop()
        for thread in self.threads:
            thread.join(timeout=30)
