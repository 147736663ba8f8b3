"""The outbox relay: publishes committed outbox rows with publisher confirms.

How a row travels:
1. *Claim*: in one short transaction the relay gives the oldest unclaimed rows their per-source
   ``sequence`` numbers (gap-free, in claim order). Only one relay per database holds the claim
   lock, so numbers never fork.
2. *Publish*: the rows go out as persistent messages on a channel in confirm mode, pipelined
   (up to ``max_in_flight`` unconfirmed), which is what lets one relay go far beyond the
   one-round-trip-per-message rate of waiting on each confirm.
3. *Mark*: only when the broker acknowledges a message is its row marked ``published_at``,
   by the next pump, in the transaction of its claim: confirms arriving frame by frame cost
   one commit together, not one each. A nack, a lost channel or a crash leaves rows claimed but
   unpublished (or confirmed but not yet marked); they are sent again, with the same id and
   sequence, as soon as a channel is open. Consumers drop the duplicate.
4. *Prune*: published rows older than the retention (``RELAIS_OUTBOX_RETENTION_HOURS``) are
   deleted, a batch at a time, except the newest of each stream, from which numbering goes on.

It runs on pika's asynchronous ``SelectConnection`` because confirms must be collected while
publishing continues; database work happens on the same thread in short batches.

When idle it waits for new rows. On PostgreSQL a listener thread holds a connection of its own
``LISTEN``ing on the outbox channel, which every transaction that writes outbox rows notifies
(``outbox.py``): the relay looks at the outbox as soon as such a transaction commits. The poll
every ``poll_seconds`` stays, as the only way on SQLite and as a safety net on PostgreSQL (a
notification lost while the listener reconnects costs at most one poll).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pika
from pika.adapters.select_connection import SelectConnection
from pika.spec import Basic
from sqlalchemy import Engine, Select, Table, bindparam, delete, func, select, text, update

from shared.bus.envelope import serialise
from shared.bus.listener import OutboxListener
from shared.bus.topology import (
    EXCHANGE,
    SUBSCRIPTIONS,
    Subscription,
    connection_parameters,
    declare_topology,
)
from shared.logs import get_logger

log = get_logger("relais.relay")

_RELAY_LOCK_KEY = 0x52454C4159  # "RELAY": one relay per database may claim rows at a time


def stream_of(routing_key: str) -> str:
    """The stream of an event: the first part of its type (``audit`` of ``audit.access_recorded``)."""
    return routing_key.split(".", 1)[0]


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        table: Table,
        amqp_url: str,
        *,
        retry_delays: tuple[float, ...] = (1.0,),
        batch_size: int = 500,
        poll_seconds: float = 0.2,
        max_in_flight: int = 2000,
        heartbeat_file: Path | None = None,
        subscriptions: tuple[Subscription, ...] = SUBSCRIPTIONS,
        retention_seconds: float = 7 * 24 * 3600.0,
        prune_every_seconds: float = 60.0,
        prune_batch: int = 5000,
    ) -> None:
        self.engine = engine
        self.subscriptions = subscriptions
        self.table = table
        self.amqp_url = amqp_url
        self.retry_delays = retry_delays
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_in_flight = max(max_in_flight, batch_size)
        self.heartbeat_file = heartbeat_file
        # Published rows are deleted once older than this, a batch at a time, at most every
        # ``prune_every_seconds`` (or at once again while whole batches are still deleted);
        # the newest row of each stream always stays, since numbering goes on from it.
        self.retention_seconds = retention_seconds
        self.prune_every_seconds = prune_every_seconds
        self.prune_batch = prune_batch
        self._prune_due = 0.0
        self.pruned = 0  # rows deleted since start, for metrics and tests
        self._stopping = threading.Event()
        self._connection: SelectConnection | None = None
        self._channel: Any = None
        self._in_flight: OrderedDict[int, tuple[int, str, bytes, str]] = OrderedDict()
        self._next_tag = 0
        self._next_sequence: int | None = None
        # The next number of each stream (the first part of the routing key: audit, record...).
        self._next_in_stream: dict[str, int] | None = None
        self._resend_claimed = True
        self._pump_timer: Any = None  # the ioloop timeout of the next pump, if one is due
        self._pump_due = 0.0
        self._lock_connection: Any = None
        self._lock_pid: int | None = None
        # Rows the broker confirmed, marked published by the next pump in the transaction of
        # its claim (one commit for both, however many confirm frames came in between).
        self._confirmed: list[int] = []
        self.published = 0  # confirmed messages since start, for metrics and tests
        self.listener: OutboxListener | None = None

    # -- life cycle -------------------------------------------------------------------------
    def run(self) -> None:
        """Publish until ``stop()``; reconnect with back-off after any broker failure."""
        backoff = 0.5
        listener = None
        if self.engine.dialect.name == "postgresql":
            self.listener = OutboxListener(self.engine, self._wake, self._stopping)
            listener = threading.Thread(target=self.listener.run, name="OutboxListener", daemon=True)
            listener.start()
        try:
            while not self._stopping.is_set():
                if not self._holds_claim_lock():
                    self._release_claim_lock()
                    self._acquire_claim_lock()
                self._declare_topology()
                if self._stopping.is_set():
                    break
                started = time.monotonic()
                self._connection = SelectConnection(
                    connection_parameters(self.amqp_url),
                    on_open_callback=self._on_connection_open,
                    on_open_error_callback=self._on_connection_error,
                    on_close_callback=self._on_connection_closed,
                )
                if not self._stopping.is_set():  # stop() may have come before this connection
                    self._connection.ioloop.start()
                self._mark_published()  # the broker has what it confirmed, connection or not
                if self._stopping.is_set():
                    break
                if time.monotonic() - started > 10:
                    backoff = 0.5
                log.warning("relay disconnected, reconnecting", backoff_seconds=backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        finally:
            self._release_claim_lock()
            if listener is not None:
                listener.join(timeout=5)

    def stop(self) -> None:
        self._stopping.set()
        connection = self._connection
        if connection is not None:
            try:
                connection.ioloop.add_callback_threadsafe(self._close)
            except Exception:  # the loop may be gone already
                pass

    def _close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            self._connection.close()
        elif self._connection is not None:
            self._connection.ioloop.stop()

    def _declare_topology(self) -> None:
        while not self._stopping.is_set():
            try:
                connection = pika.BlockingConnection(connection_parameters(self.amqp_url))
                try:
                    declare_topology(connection.channel(), self.retry_delays, self.subscriptions)
                finally:
                    connection.close()
                return
            except pika.exceptions.AMQPError as exc:
                log.warning("broker not reachable, retrying", error=type(exc).__name__)
                self._stopping.wait(1.0)

    # -- claim lock (PostgreSQL) ----------------------------------------------------------------
    def _acquire_claim_lock(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return  # SQLite is one machine, one relay
        while not self._stopping.is_set():
            try:
                if self._lock_connection is None:
                    self._lock_connection = self.engine.connect()
                got = self._lock_connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": _RELAY_LOCK_KEY}
                ).scalar()
                self._lock_pid = self._lock_connection.execute(
                    text("SELECT pg_backend_pid()")
                ).scalar()
                self._lock_connection.commit()
            except Exception as exc:  # the database is away: wait for it
                log.warning("relay cannot reach its database", error=type(exc).__name__)
                self._release_claim_lock()
                self._stopping.wait(1.0)
                continue
            if got:
                self._next_sequence = None  # another relay may have numbered rows meanwhile
                self._next_in_stream = None
                return
            log.info("another relay holds the outbox, standing by")
            self._touch_heartbeat()  # a standby is healthy: it takes over when the other stops
            self._stopping.wait(2.0)

    def _holds_claim_lock(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        if self._lock_connection is None:
            return False
        try:
            with self.engine.connect() as connection:
                return bool(
                    connection.execute(
                        text(
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND classid = :hi AND objid = :lo AND objsubid = 1 "
                            "AND pid = :pid AND granted"
                        ),
                        {"hi": _RELAY_LOCK_KEY >> 32, "lo": _RELAY_LOCK_KEY & 0xFFFFFFFF,
                         "pid": self._lock_pid},
                    ).scalar()
                )
        except Exception:
            return False

    def _release_claim_lock(self) -> None:
        if self._lock_connection is not None:
            try:
                self._lock_connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _RELAY_LOCK_KEY}
                )
                self._lock_connection.commit()
                self._lock_connection.close()
            except Exception:
                pass
            self._lock_connection = None

    # -- connection callbacks ---------------------------------------------------------------
    def _on_connection_open(self, connection: SelectConnection) -> None:
        self._pump_timer = None  # a timer of an earlier connection's loop is not this loop's
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_connection_error(self, connection: SelectConnection, error: Exception) -> None:
        log.warning("relay could not connect", error=type(error).__name__)
        connection.ioloop.stop()

    def _on_connection_closed(self, connection: SelectConnection, reason: Exception) -> None:
        self._channel = None
        self._in_flight.clear()
        self._pump_timer = None
        connection.ioloop.stop()

    def _on_channel_open(self, channel: Any) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        self._next_tag = 0
        self._in_flight.clear()
        self._resend_claimed = True
        channel.confirm_delivery(self._on_confirm, callback=lambda _frame: self._schedule(0))

    def _on_channel_closed(self, channel: Any, reason: Exception) -> None:
        if self._stopping.is_set():
            log.info("relay channel closed", reason=str(reason))
        else:
            log.warning("relay channel closed", reason=str(reason))
        self._channel = None
        if self._connection is not None and self._connection.is_open:
            self._connection.close()

    # -- publishing ---------------------------------------------------------------------------
    def _schedule(self, delay: float) -> None:
        """Pump in ``delay`` seconds, or sooner if a pump is already due sooner."""
        if self._connection is None:
            return
        due = time.monotonic() + delay
        if self._pump_timer is not None:
            if self._pump_due <= due:
                return
            self._connection.ioloop.remove_timeout(self._pump_timer)
        self._pump_due = due
        self._pump_timer = self._connection.ioloop.call_later(delay, self._pump)

    def _wake(self) -> None:
        """From the listener's thread: rows were committed, look at the outbox now."""
        connection = self._connection
        if connection is None:
            return  # not publishing (connecting, or standing by): it claims when it starts
        try:
            connection.ioloop.add_callback_threadsafe(lambda: self._schedule(0))
        except Exception:  # the loop is closing: the next connection claims anyway
            pass

    def _pump(self) -> None:
        self._pump_timer = None
        if self._stopping.is_set() or self._channel is None or not self._channel.is_open:
            return
        self._touch_heartbeat()
        room = self.max_in_flight - len(self._in_flight)
        if room <= 0:
            return  # confirms will schedule the next pump
        resending = self._resend_claimed
        try:
            if resending:
                self._mark_published()  # what was confirmed must not go out again
                rows = self._claimed_unpublished()
                self._resend_claimed = False
            else:
                rows = self._claim(min(room, self.batch_size))
        except Exception as exc:  # the database is away: try again later, lose nothing
            log.warning("relay could not read the outbox", error=type(exc).__name__)
            self._next_sequence = None  # re-read it: a failed commit may have used numbers
            self._next_in_stream = None
            if not self._holds_claim_lock():
                log.warning("relay lost its claim on the outbox; reconnecting to take it again")
                self._close()
                return
            self._schedule(1.0)
            return
        for row_id, sequence, routing_key, body, event_id in rows:
            self._publish(row_id, sequence, routing_key, body, event_id)
        if time.monotonic() >= self._prune_due:
            self._prune_now()
        # After sending the claimed rows again, claim new ones at once: rows committed before
        # the channel opened (whose notification found no channel) must not wait for a poll.
        if resending or len(rows) >= min(room, self.batch_size):
            self._schedule(0)
        else:
            self._schedule(self.poll_seconds)

    def _publish(self, row_id: int, sequence: int, routing_key: str, body: str, event_id: str) -> None:
        """``sequence`` is the row's number within its stream."""
        document = orjson.loads(body)
        document["sequence"] = sequence
        payload = serialise(document)
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=event_id,
            type=document.get("type"),
            correlation_id=document.get("correlation_id"),
            app_id=document.get("producer"),
        )
        self._channel.basic_publish(EXCHANGE, routing_key, payload, properties)
        self._next_tag += 1
        self._in_flight[self._next_tag] = (row_id, routing_key, payload, event_id)

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        tag, multiple = method.delivery_tag, method.multiple
        if multiple:
            tags = [t for t in self._in_flight if t <= tag]
        else:
            tags = [tag] if tag in self._in_flight else []
        was_full = len(self._in_flight) >= self.max_in_flight
        entries = [self._in_flight.pop(t) for t in tags]
        if isinstance(method, Basic.Ack):
            self._confirmed.extend(entry[0] for entry in entries)
            self.published += len(entries)
            # The next pump marks them with its claim: at once if the relay was waiting for room
            # to send more, else at its usual time (a mark left undone at a crash only sends the
            # rows again, which consumers recognise; it never loses one).
            self._schedule(0 if was_full else self.poll_seconds)
        else:
            log.warning("broker refused messages, sending again", count=len(entries))
            self._resend_claimed = True
            self._schedule(0)

    # -- database -----------------------------------------------------------------------------
    def _prune_now(self) -> None:
        try:
            deleted = self.prune()
        except Exception as exc:  # the database is away: publishing goes on, pruning waits
            log.warning("relay could not prune the outbox", error=type(exc).__name__)
            deleted = 0
        self._prune_due = time.monotonic() + (0 if deleted >= self.prune_batch else self.prune_every_seconds)

    def prune(self, *, now: datetime | None = None) -> int:
        """Delete up to ``prune_batch`` published rows older than the retention, oldest first,
        but never the newest row of a stream: the relay numbers each stream on from its
        highest number, read back from the table when it starts. Unpublished rows stay."""
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=self.retention_seconds)
        doomed = self.prunable(cutoff)
        with self.engine.begin() as connection:
            deleted = connection.execute(delete(self.table).where(self.table.c.id.in_(doomed))).rowcount
        self.pruned += deleted
        return deleted

    def prunable(self, cutoff: datetime) -> Select:
        """The ids of the next batch to prune: published before ``cutoff``, not the newest of
        their stream, oldest first."""
        t = self.table
        newest = t.alias("newest")
        last_of_stream = (select(func.max(newest.c.stream_sequence))
                          .where(newest.c.stream == t.c.stream).scalar_subquery())
        # A row is published after it is written, so one old enough was written before the
        # cutoff too: that bound lets the index on created_at find the candidates, where the
        # table would otherwise be read whole (docs/architecture.md, "The bus").
        return (select(t.c.id)
                .where(t.c.created_at < cutoff, t.c.published_at < cutoff,
                       t.c.stream_sequence < last_of_stream)
                .order_by(t.c.id).limit(self.prune_batch))

    def _claimed_unpublished(self) -> list[tuple[int, int, str, str, str]]:
        t = self.table
        with self.engine.connect() as connection:
            result = connection.execute(
                select(t.c.id, t.c.stream_sequence, t.c.routing_key, t.c.body, t.c.event_id)
                .where(t.c.published_at.is_(None), t.c.sequence.is_not(None))
                .order_by(t.c.sequence)
            )
            return [tuple(row) for row in result]  # type: ignore[misc]

    def _claim(self, limit: int) -> list[tuple[int, int, str, str, str]]:
        """Number the oldest unclaimed rows: ``sequence`` orders all of the source's events, and
        ``stream_sequence`` numbers them gap-free within their stream — what a consumer of one
        stream (the audit log, of ``audit.*``) checks for gaps, and what the event carries."""
        t = self.table
        if self.engine.dialect.name == "postgresql" and not self._holds_claim_lock():
            raise RuntimeError("the outbox claim lock is no longer held")
        confirmed = self._confirmed
        with self.engine.begin() as connection:
            self._mark(connection, confirmed)
            if self._next_sequence is None:
                current = connection.execute(select(func.max(t.c.sequence))).scalar()
                self._next_sequence = (current or 0) + 1
            if self._next_in_stream is None:
                self._next_in_stream = {
                    stream: (highest or 0) + 1 for stream, highest in connection.execute(
                        select(t.c.stream, func.max(t.c.stream_sequence))
                        .where(t.c.stream.is_not(None)).group_by(t.c.stream))
                }
            # An unclaimed row is unpublished too: saying so lets PostgreSQL read the small
            # partial index of unpublished rows (ix_outbox_unpublished) instead of the index of
            # every sequence number ever given, whose NULL end also holds the dead versions of
            # every row claimed since the last vacuum.
            query = (
                select(t.c.id, t.c.routing_key, t.c.body, t.c.event_id)
                .where(t.c.sequence.is_(None), t.c.published_at.is_(None))
                .order_by(t.c.id)
                .limit(limit)
            )
            rows = connection.execute(query).all()
            if not rows:
                self._confirmed = self._confirmed[len(confirmed):]
                return []
            first = self._next_sequence
            following = dict(self._next_in_stream)
            assignments = []
            for i, row in enumerate(rows):
                stream = stream_of(row.routing_key)
                number = following.get(stream, 1)
                following[stream] = number + 1
                assignments.append({"row_id": row.id, "seq": first + i, "stream_name": stream,
                                    "in_stream": number})
            connection.execute(
                update(t).where(t.c.id == bindparam("row_id")).values(
                    sequence=bindparam("seq"), stream=bindparam("stream_name"),
                    stream_sequence=bindparam("in_stream")),
                assignments,
            )
        self._confirmed = self._confirmed[len(confirmed):]
        self._next_sequence = first + len(rows)
        self._next_in_stream = following
        return [
            (row.id, assignment["in_stream"], row.routing_key, row.body, row.event_id)
            for row, assignment in zip(rows, assignments, strict=True)
        ]

    def _mark(self, connection: Any, row_ids: list[int]) -> None:
        if not row_ids:
            return
        now = datetime.now(UTC)
        t = self.table
        for start in range(0, len(row_ids), 1000):
            chunk = row_ids[start : start + 1000]
            connection.execute(update(t).where(t.c.id.in_(chunk)).values(published_at=now))

    def _mark_published(self) -> None:
        """Mark what the broker confirmed, on its own (before sending claimed rows again, and
        when the relay stops)."""
        confirmed = self._confirmed
        if not confirmed:
            return
        try:
            with self.engine.begin() as connection:
                self._mark(connection, confirmed)
            self._confirmed = self._confirmed[len(confirmed):]
        except Exception as exc:
            # Rows stay unpublished and go out again later: a duplicate, never a loss.
            log.warning("relay could not mark rows published", error=type(exc).__name__)
            self._resend_claimed = True

    def _touch_heartbeat(self) -> None:
        if self.heartbeat_file is not None:
            try:
                self.heartbeat_file.touch()
            except OSError:
                pass

