"""The consent service's tables (its own database).

Identities are sealed (see keyring.py); grants are an append-only list of versions; the
``consent_*`` tables are the decision view, the same projection every other service keeps,
written here in the transaction that publishes each event."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from shared.bus.schema import add_bus_tables
from shared.consent.projection import ConsentProjection
from shared.db.types import UtcDateTime

metadata = MetaData()

beneficiaries = Table(
    "beneficiaries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("registered_by_organisation", String(120), nullable=False),
    Column("anonymous", Boolean, nullable=False, default=True),
    Column("erased_at", UtcDateTime(), nullable=True),
)

identities = Table(
    "identities",
    metadata,
    Column("beneficiary_id", String(36), primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("national_number_index", String(64), nullable=True, unique=True),
)

data_keys = Table(
    "data_keys",
    metadata,
    Column("beneficiary_id", String(36), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("master_key_id", String(16), nullable=False),
)

grant_versions = Table(
    "grant_versions",
    metadata,
    Column("grant_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("status", String(12), nullable=False),
    Column("grantee_kind", String(20), nullable=False),
    Column("grantee", String(200), nullable=False),
    Column("categories", String(400), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("actions", String(40), nullable=False),
    Column("valid_from", UtcDateTime(), nullable=False),
    Column("valid_until", UtcDateTime(), nullable=True),
    Column("referent", Boolean, nullable=False),
    Column("transition_kind", String(40), nullable=True),
    Column("transition_days", Integer, nullable=True),
    Column("powers", String(100), nullable=False, default=""),
    Column("method", String(20), nullable=False),
    Column("witness", String(200), nullable=True),
    Column("form_reference", String(100), nullable=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Index("ix_grant_versions_beneficiary", "beneficiary_id"),
)

exclusion_records = Table(
    "exclusion_records",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("target", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("lifted_at", UtcDateTime(), nullable=True),
    Column("lifted_by", String(200), nullable=True),
    Index("ix_exclusion_records_beneficiary", "beneficiary_id"),
)

emergency_accesses = Table(
    "emergency_accesses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("organisation", String(120), nullable=True),
    Column("profession", String(60), nullable=True),
    Column("reason_code", String(40), nullable=False),
    Column("categories", String(400), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("until", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),  # ended early, by the person or its opener
    Column("closed_by", String(200), nullable=True),
    Index("ix_emergency_accesses_beneficiary", "beneficiary_id"),
)

share_codes = Table(
    "share_codes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("terms", Text, nullable=False),  # JSON of the grant the person chose
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
)

redemption_failures = Table(
    "redemption_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(200), nullable=False),
    Column("failed_at", UtcDateTime(), nullable=False),
    Index("ix_redemption_failures_subject", "subject", "failed_at"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("subject_ref", String(36), nullable=False),  # grant or exclusion id
    Column("kind", String(30), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("jws", Text, nullable=False),
    Index("ix_receipts_beneficiary", "beneficiary_id"),
)

projection_acks = Table(
    "projection_acks",
    metadata,
    Column("projection", String(40), primary_key=True),
    Column("beneficiary_id", String(36), primary_key=True),
    Column("epoch", Integer, nullable=False),
)

projection = ConsentProjection(metadata)
outbox, processed_events = add_bus_tables(metadata)
