"""The consumer: manual acks, bounded prefetch, idempotent effects, retries, dead letters.

A batch of deliveries is applied in one database transaction together with the ids of the
events it applied (``processed_events``); only after that commit are the deliveries acked. So:
- a crash before the commit applies nothing, and the broker delivers the batch again;
- a crash after the commit but before the ack redelivers events whose ids are already stored:
  they are acked without a second effect.
When one event of a batch fails, the batch is rolled back and its events are applied one by one,
so one bad event never holds back the others. A failing event is sent to a delay queue and
comes back after a back-off; after ``max_attempts`` it goes to the queue's dead-letter queue.
A message that is not a Relais event at all goes there at once. When the database itself is
away, nothing is acked and nothing counts as a try: the consumer backs off and reconnects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
import structlog
from sqlalchemy import Engine, Table, bindparam, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.bus.envelope import Envelope, InvalidEnvelope, decode
from shared.bus.topology import (
    DEAD_EXCHANGE,
    SUBSCRIPTIONS,
    Subscription,
    connection_parameters,
    declare_topology,
    retry_queue,
)
from shared.db.bulk import among_parameter, insert_rows
from shared.logs import get_logger

log = get_logger("relais.consumer")

ATTEMPTS_HEADER = "x-relais-attempts"
# A batch smaller than batch_size is applied once no delivery came for IDLE_FLUSH_SECONDS (the
# broker has sent what it had), or once its oldest delivery has waited MAX_BATCH_WAIT_SECONDS.
IDLE_FLUSH_SECONDS = 0.001
MAX_BATCH_WAIT_SECONDS = 0.05
_IDLE_WAIT_SECONDS = 1.0
_HEARTBEAT_EVERY_SECONDS = 1.0
Handler = Callable[[Session, Envelope], None]
BatchHook = Callable[[Session], None]


class DatabaseUnavailable(RuntimeError):
    """The consumer's own database cannot be reached: back off, do not count a try."""


@dataclass
class _Delivery:
    tag: int
    properties: pika.BasicProperties
    body: bytes
    envelope: Envelope | None = None
    error: str | None = None


def _is_connection_problem(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class Consumer:
    def __init__(
        self,
        queue: str,
        handler: Handler,
        engine: Engine,
        processed_table: Table,
        amqp_url: str,
        *,
        prefetch: int = 200,
        batch_size: int = 200,
        max_attempts: int = 5,
        retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0),
        idle_flush_seconds: float = IDLE_FLUSH_SECONDS,
        max_batch_wait_seconds: float = MAX_BATCH_WAIT_SECONDS,
        heartbeat_file: Path | None = None,
        subscriptions: tuple[Subscription, ...] = SUBSCRIPTIONS,
        on_batch: BatchHook | None = None,
    ) -> None:
        self.queue = queue
        # Called once per transaction, after the handlers and before the commit, when at least
        # one event was applied: lets a service do per-batch work (e.g. one tree append).
        self.on_batch = on_batch
        self.subscriptions = subscriptions
        self.handler = handler
        self.engine = engine
        self.processed = processed_table
        self.amqp_url = amqp_url
        self.prefetch = prefetch
        self.batch_size = max(1, min(batch_size, prefetch))
        self.max_attempts = max_attempts
        self.retry_delays = retry_delays
        self.idle_flush_seconds = idle_flush_seconds
        self.max_batch_wait_seconds = max_batch_wait_seconds
        self.heartbeat_file = heartbeat_file
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._stopping = threading.Event()
        self._heartbeat_at = float("-inf")
        self._connection: pika.BlockingConnection | None = None
        self._done_query: Any = None
        self.applied = 0  # events applied since start (not counting duplicates)
        self.duplicates = 0
        self.retried = 0
        self.dead_lettered = 0

    def stop(self) -> None:
        self._stopping.set()
        connection = self._connection
        if connection is not None:
            try:  # wake the wait for deliveries, so the loop sees the stop at once
                connection.add_callback_threadsafe(lambda: None)
            except Exception:  # the connection is closing or gone: the loop ends anyway
                pass

    # -- connection loop --------------------------------------------------------------------
    def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            connection = None
            started = time.monotonic()
            try:
                connection = pika.BlockingConnection(connection_parameters(self.amqp_url))
                self._connection = connection
                self._consume(connection)
            except (pika.exceptions.AMQPError, DatabaseUnavailable, OSError) as exc:
                if self._stopping.is_set():
                    break
                if time.monotonic() - started > 10:
                    backoff = 0.5
                log.warning(
                    "consumer interrupted, reconnecting",
                    queue=self.queue,
                    error=type(exc).__name__,
                    backoff_seconds=backoff,
                )
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self._connection = None
                if connection is not None and connection.is_open:
                    try:
                        connection.close()
                    except Exception:
                        pass

    def _consume(self, connection: pika.BlockingConnection) -> None:
        channel = connection.channel()
        declare_topology(channel, self.retry_delays, self.subscriptions)
        channel.basic_qos(prefetch_count=self.prefetch)
        publisher = connection.channel()
        publisher.confirm_delivery()
        arrived: list[_Delivery] = []

        def on_delivery(_channel: Any, method: Any, properties: Any, body: bytes) -> None:
            arrived.append(_Delivery(method.delivery_tag, properties, body))

        consumer_tag = channel.basic_consume(self.queue, on_delivery, auto_ack=False)
        log.info("consuming", queue=self.queue)
        pending: list[_Delivery] = []
        held_since = 0.0
        while True:
            if self._stopping.is_set():
                if pending:
                    self._handle_batch(channel, publisher, pending)
                break
            # Idle, wait long: stop() and the heartbeat are looked at once a second. Holding
            # deliveries, wait only until the stream pauses (nothing more within
            # idle_flush_seconds) or the oldest has waited max_batch_wait_seconds.
            if pending:
                wait = min(self.idle_flush_seconds,
                           held_since + self.max_batch_wait_seconds - time.monotonic())
            else:
                wait = _IDLE_WAIT_SECONDS
            connection.process_data_events(time_limit=max(wait, 0.0))
            if arrived:
                if not pending:
                    held_since = time.monotonic()
                pending.extend(arrived)
                arrived.clear()
                while len(pending) >= self.batch_size:
                    self._handle_batch(channel, publisher, pending[: self.batch_size])
                    del pending[: self.batch_size]
                    held_since = time.monotonic()
                if pending and time.monotonic() - held_since < self.max_batch_wait_seconds:
                    continue
            if pending:
                self._handle_batch(channel, publisher, pending)
                pending = []
            self._touch_heartbeat()
        channel.basic_cancel(consumer_tag)

    # -- one batch ----------------------------------------------------------------------------
    def _handle_batch(self, channel: Any, publisher: Any, batch: list[_Delivery]) -> None:
        for delivery in batch:
            try:
                delivery.envelope = decode(delivery.body)
            except InvalidEnvelope as exc:
                delivery.error = str(exc)
        events = [d for d in batch if d.envelope is not None]
        try:
            self._apply(events)
        except DatabaseUnavailable:
            raise
        except Exception:
            # One of them failed: apply them one by one to find it and keep the others.
            for delivery in events:
                try:
                    self._apply([delivery])
                except DatabaseUnavailable:
                    raise
                except Exception as exc:
                    delivery.error = f"{type(exc).__name__}: {exc}"
        for delivery in batch:
            if delivery.error is not None:
                self._fail(publisher, delivery)
        channel.basic_ack(batch[-1].tag, multiple=True)

    def _apply(self, deliveries: list[_Delivery]) -> None:
        if not deliveries:
            return
        now = datetime.now(UTC)
        try:
            with self._sessions() as session, session.begin():
                ids = [d.envelope.id for d in deliveries if d.envelope is not None]
                done = set(
                    session.execute(
                        self._processed_query(session), {"consumer": self.queue, "ids": ids}
                    ).scalars()
                )
                rows = []
                applied = 0
                for delivery in deliveries:
                    envelope = delivery.envelope
                    assert envelope is not None
                    if envelope.id in done:
                        self.duplicates += 1
                        continue
                    done.add(envelope.id)
                    with structlog.contextvars.bound_contextvars(
                        correlation_id=envelope.correlation_id, event_id=envelope.id
                    ):
                        self.handler(session, envelope)
                    rows.append({"consumer": self.queue, "event_id": envelope.id, "processed_at": now})
                    applied += 1
                if rows:
                    if self.on_batch is not None:
                        self.on_batch(session)
                    insert_rows(session, self.processed, rows)
            self.applied += applied
        except Exception as exc:
            if _is_connection_problem(exc):
                raise DatabaseUnavailable(str(type(exc).__name__)) from exc
            raise

    def _processed_query(self, session: Session) -> Any:
        """Which of a batch's event ids this consumer already applied (built once)."""
        if self._done_query is None:
            c = self.processed.c
            self._done_query = select(c.event_id).where(
                c.consumer == bindparam("consumer"), among_parameter(session, c.event_id, "ids")
            )
        return self._done_query

    def _fail(self, publisher: Any, delivery: _Delivery) -> None:
        headers = dict(delivery.properties.headers or {})
        attempts = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
        headers[ATTEMPTS_HEADER] = attempts
        headers["x-relais-error"] = (delivery.error or "")[:500]
        properties = pika.BasicProperties(
            content_type=delivery.properties.content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=delivery.properties.message_id,
            type=delivery.properties.type,
            correlation_id=delivery.properties.correlation_id,
            app_id=delivery.properties.app_id,
            headers=headers,
        )
        event_id = delivery.envelope.id if delivery.envelope else delivery.properties.message_id
        if delivery.envelope is None or attempts >= self.max_attempts:
            publisher.basic_publish(DEAD_EXCHANGE, self.queue, delivery.body, properties)
            self.dead_lettered += 1
            log.error(
                "event dead-lettered",
                queue=self.queue,
                event_id=event_id,
                attempts=attempts,
                error=delivery.error,
            )
            return
        delay = self.retry_delays[min(attempts - 1, len(self.retry_delays) - 1)]
        publisher.basic_publish("", retry_queue(self.queue, delay), delivery.body, properties)
        self.retried += 1
        log.warning(
            "event failed, will retry",
            queue=self.queue,
            event_id=event_id,
            attempts=attempts,
            retry_in_seconds=delay,
            error=delivery.error,
        )

    def _touch_heartbeat(self) -> None:
        if self.heartbeat_file is not None and time.monotonic() - self._heartbeat_at >= _HEARTBEAT_EVERY_SECONDS:
            self._heartbeat_at = time.monotonic()
            try:
                self.heartbeat_file.touch()
            except OSError:
                pass
