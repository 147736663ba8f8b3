"""Writing events to the transactional outbox, in the caller's own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.orm import Session

from shared.bus.envelope import Envelope, encode, encode_many
from shared.db.statements import DirectStatement, insert_many

# On PostgreSQL a transaction that writes an urgent event also notifies this channel; the
# server delivers the notification when (and only if) the transaction commits, so a relay
# listening on it wakes at once (see listener.py). Only urgent events do: PostgreSQL commits the
# transactions that notified one at a time, server-wide (a global lock held until the commit is
# flushed to disk), so they lose group commit. Measured on record's timeline at 16 connections:
# 142-166 reads/s when every read's audit event notified, 176-178 when only urgent events do;
# on a machine busy with other work the notifying version fell to about 100 (docs/benchmarks.md,
# section 7). Everything else is found by the relay's poll (RELAIS_RELAY_POLL_SECONDS).
OUTBOX_CHANNEL = "relais_outbox"
_INSERTED = ("event_id", "event_type", "routing_key", "body", "created_at")


class Outbox:
    """Adds events to a service's ``outbox`` table. Nothing is sent here: the relay does that
    once the transaction that wrote the row has committed, so an event exists if and only if
    the change that caused it exists."""

    def __init__(self, table: Table, producer: str) -> None:
        self.table = table
        self.producer = producer
        # Built once: every access of every service writes here, straight from the driver on
        # PostgreSQL. Inline: nothing is fetched back (the row's id is not needed), so no
        # RETURNING and no primary key to process.
        self._insert = DirectStatement(insert(table).inline(), column_keys=list(_INSERTED))

    def add(
        self,
        db: Session | Connection,
        event_type: str,
        payload: dict[str, Any],
        *,
        correlation_id: str | None = None,
        version: int = 1,
        urgent: bool = False,
    ) -> Envelope:
        """``urgent``: wake the relay at the commit instead of at its next poll — for what must
        take effect at once elsewhere (a consent change, a projection's acknowledgement)."""
        envelope = Envelope(
            type=event_type,
            producer=self.producer,
            payload=payload,
            version=version,
            correlation_id=correlation_id,
        )
        self.add_envelope(db, envelope, urgent=urgent)
        return envelope

    def add_envelope(self, db: Session | Connection, envelope: Envelope, *, urgent: bool = False) -> None:
        body = encode(envelope).decode()
        connection = db.connection() if isinstance(db, Session) else db
        self._insert.rows(connection, {
            "event_id": envelope.id, "event_type": envelope.type, "routing_key": envelope.routing_key,
            "body": body, "created_at": envelope.occurred_at,
        })
        if urgent:
            notify(db)

    def add_many(self, db: Session, envelopes: list[Envelope], *, urgent: bool = False) -> None:
        """Many events in one INSERT (a scan's batch), validated as ``encode_many`` does."""
        if not envelopes:
            return
        bodies = encode_many(envelopes)
        insert_many(db, self.table, [
            {"event_id": e.id, "event_type": e.type, "routing_key": e.routing_key,
             "body": body.decode(), "created_at": e.occurred_at}
            for e, body in zip(envelopes, bodies, strict=True)
        ])
        if urgent:
            notify(db)


def notify(db: Session | Connection) -> None:
    """Wake the relay when this transaction commits (PostgreSQL; SQLite relays poll)."""
    dialect = db.get_bind().dialect if isinstance(db, Session) else db.dialect
    if dialect.name == "postgresql":
        # Several in one transaction make one notification: the server folds them.
        db.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))
