"""The audit service's tables (its own database).

``audit_log`` (one row per leaf), ``audit_tree_nodes`` (perfect subtrees, for proofs) and
``audit_checkpoints`` are append-only: the database refuses UPDATE and DELETE on them (triggers,
migration audit_0002). ``audit_head`` (the tree size, its right edge and the last leaf),
``audit_person_heads`` and ``audit_sources`` are the mutable state the appender moves forward
under a compare-and-swap on the head.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from shared.bus.schema import processed_events_table
from shared.db.types import UtcDateTime

_BigId = BigInteger().with_variant(Integer(), "sqlite")
metadata = MetaData()

LOG_TABLES = ("audit_log", "audit_tree_nodes", "audit_checkpoints")

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
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
    Column("leaf_index", BigInteger, nullable=True),
    Column("leaf_hash", LargeBinary(32), nullable=True),
    Column("crude", String(1), nullable=True),
    Column("purpose", String(200), nullable=True),
    Column("person_seq", Integer, nullable=True),
    Index("ix_audit_log_beneficiary", "beneficiary_id", "id"),
    Index("ix_audit_log_source_sequence", "source", "source_sequence"),
    Index("ux_audit_log_leaf_index", "leaf_index", unique=True),
    Index("ix_audit_log_person_index", "beneficiary_id", "leaf_index"),
    Index("ix_audit_log_org_person", "actor_organisation", "beneficiary_id", "occurred_at"),
    Index("ix_audit_log_subject", "actor_subject", "leaf_index"),
)

audit_tree_nodes = Table(
    "audit_tree_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("persons", BigInteger, nullable=False),
    Column("persons_root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("last_leaf", LargeBinary(32), nullable=False),
    Column("checkpoint_size", BigInteger, nullable=False),
    Column("checkpoint_at", UtcDateTime(), nullable=True),
)

audit_person_heads = Table(
    "audit_person_heads",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("last_index", BigInteger, nullable=False),
    Column("head", LargeBinary(32), nullable=False),
)

audit_sources = Table(
    "audit_sources",
    metadata,
    Column("source", String(40), primary_key=True),
    Column("contiguous", BigInteger, nullable=False),
    Column("highest", BigInteger, nullable=False),
)

processed_events = processed_events_table(metadata)
