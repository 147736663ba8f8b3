"""The shape of the bus, declared idempotently by every process that touches it.

One topic exchange carries every event, with the event type as routing key
(`<producer>.<event>`). Each consuming service owns durable quorum queues bound to the keys it
needs. A failing message goes to a per-queue delay queue (one per back-off step) that sends it
back after its delay; after the last try it lands in the queue's dead-letter queue, where it
stays for an operator. Every queue is listed here, so a producer that starts before its
consumers still has somewhere to put each event: nothing is dropped for want of a queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pika
from pika.adapters.blocking_connection import BlockingChannel

EXCHANGE = "relais.events"
DEAD_EXCHANGE = "relais.dead"
# A safety net under the consumer's own retry count: a message that kills its consumer again
# and again (so is never nacked by it) still reaches the dead-letter queue.
DELIVERY_LIMIT = 20


@dataclass(frozen=True)
class Subscription:
    queue: str
    bindings: tuple[str, ...]


# Who listens to what. Queue names are `<consuming service>.<purpose>`.
SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("audit.ingest", ("audit.#",)),
    Subscription("alerts.journey", ("record.#",)),
    Subscription("alerts.consent", ("consent.#",)),
    Subscription("record.consent", ("consent.#",)),
    Subscription("record.alerts", ("alert.#",)),
    Subscription("consent.projection_acks", ("*.consent_applied",)),
)


def subscription(queue: str) -> Subscription:
    for sub in SUBSCRIPTIONS:
        if sub.queue == queue:
            return sub
    raise KeyError(f"no subscription named {queue!r}")


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dead"


def retry_queue(queue: str, delay_seconds: float) -> str:
    return f"{queue}.retry.{int(delay_seconds * 1000)}ms"


def declare_exchanges(channel: BlockingChannel) -> None:
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    channel.exchange_declare(DEAD_EXCHANGE, exchange_type="direct", durable=True)


def declare_queue(
    channel: BlockingChannel, sub: Subscription, retry_delays: Iterable[float]
) -> None:
    channel.queue_declare(
        sub.queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": DEAD_EXCHANGE,
            "x-dead-letter-routing-key": sub.queue,
        },
    )
    for key in sub.bindings:
        channel.queue_bind(sub.queue, EXCHANGE, routing_key=key)
    dead = dead_letter_queue(sub.queue)
    channel.queue_declare(dead, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(dead, DEAD_EXCHANGE, routing_key=sub.queue)
    for delay in retry_delays:
        channel.queue_declare(
            retry_queue(sub.queue, delay),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": int(delay * 1000),
                # Expired messages go back to the main queue through the default exchange.
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": sub.queue,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )


def declare_topology(
    channel: BlockingChannel,
    retry_delays: Iterable[float],
    subscriptions: Iterable[Subscription] = SUBSCRIPTIONS,
) -> None:
    """Declare the exchanges and every subscription's queues. Safe to run again and again."""
    delays = tuple(retry_delays)
    declare_exchanges(channel)
    for sub in subscriptions:
        declare_queue(channel, sub, delays)


def connection_parameters(amqp_url: str, *, heartbeat: int = 30) -> pika.URLParameters:
    params = pika.URLParameters(amqp_url)
    params.heartbeat = heartbeat
    params.blocked_connection_timeout = 60
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.client_properties = {"connection_name": "relais"}
    return params


def broker_reachable(amqp_url: str, timeout: float = 2.0) -> bool:
    params = connection_parameters(amqp_url)
    params.socket_timeout = timeout
    params.stack_timeout = timeout
    try:
        connection = pika.BlockingConnection(params)
    except Exception:  # any pika/socket error means "not reachable"
        return False
    try:
        connection.close()
    except Exception:
        pass
    return True
