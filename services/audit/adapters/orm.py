"""The audit service's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

from shared.bus.schema import processed_events_table
from shared.db.types import UtcDateTime

metadata = MetaData()

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("source", String(40), nullable=False),
    Column("source_sequence", BigInteger, nullable=True),
    Column("event_type", String(120), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("beneficiary_id", String(36), nullable=True),
    Column("actor_subject", String(120), nullable=True),
    Column("actor_organisation", String(120), nullable=True),
    Column("action", String(80), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("canonical", Text, nullable=False),
    Index("ix_audit_log_beneficiary", "beneficiary_id", "id"),
    Index("ix_audit_log_source_sequence", "source", "source_sequence"),
)

processed_events = processed_events_table(metadata)
