"""The two tables every service that takes part in the bus keeps in its own database.

- ``outbox``: events written in the same transaction as the change that caused them. The relay
  gives each row a gap-free per-source ``sequence`` before publishing it and sets
  ``published_at`` only after the broker confirmed it.
- ``processed_events``: the ids of the events a consumer has applied, written in the same
  transaction as the effects, so a redelivered event has no second effect.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from shared.db.types import UtcDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", _BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(120), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("sequence", BigInteger, nullable=True, unique=True),
        # The stream (first part of the type) and the gap-free number within it, given by the relay.
        Column("stream", String(40), nullable=True),
        Column("stream_sequence", BigInteger, nullable=True),
        Column("published_at", UtcDateTime(), nullable=True),
        Index(
            "ix_outbox_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
        Index("ux_outbox_stream_sequence", "stream", "stream_sequence", unique=True),
        # The relay's pruning looks for rows older than the retention: without it, a scan of the
        # whole table every minute, a table that grows by one row with every read.
        Index("ix_outbox_created_at", "created_at"),
    )


def processed_events_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", UtcDateTime(), nullable=False),
    )


def add_bus_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Declare ``outbox`` and ``processed_events`` on a service's metadata."""
    return outbox_table(metadata), processed_events_table(metadata)
