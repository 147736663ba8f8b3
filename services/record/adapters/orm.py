"""The record service's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table, Text

from shared.bus.schema import add_bus_tables
from shared.db.types import UtcDateTime

metadata = MetaData()

entries = Table(
    "entries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("category", String(40), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("author_subject", String(120), nullable=False),
    Column("author_organisation", String(120), nullable=True),
    Column("author_profession", String(60), nullable=True),
    Column("vocabulary_version", String(20), nullable=False),
    Column("payload", Text, nullable=False),
    Index("ix_entries_timeline", "beneficiary_id", "occurred_at", "id"),
)

outbox, processed_events = add_bus_tables(metadata)
