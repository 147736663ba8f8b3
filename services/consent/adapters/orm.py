"""The consent service's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table

from shared.bus.schema import add_bus_tables
from shared.db.types import UtcDateTime

metadata = MetaData()

beneficiaries = Table(
    "beneficiaries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("registered_by_organisation", String(120), nullable=False),
)

outbox, processed_events = add_bus_tables(metadata)
