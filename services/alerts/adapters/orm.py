"""The alerts service's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table

from shared.bus.schema import add_bus_tables
from shared.db.types import UtcDateTime

metadata = MetaData()

last_seen = Table(
    "last_seen",
    metadata,
    Column("beneficiary_id", String(36), primary_key=True),
    Column("last_seen_at", UtcDateTime(), nullable=True),
    Column("last_seen_entry_id", String(36), nullable=True),
    Column("last_attempt_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

outbox, processed_events = add_bus_tables(metadata)
