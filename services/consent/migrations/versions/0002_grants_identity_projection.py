"""Sealed identities, grant versions, exclusions, emergencies, share codes, receipts, the
decision view (the shared consent projection) and projection acknowledgements.

Revision ID: consent_0002
Revises: consent_0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from shared.consent.migration_ops import (
    create_consent_projection_tables,
    drop_consent_projection_tables,
)

revision = "consent_0002"
down_revision = "consent_0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("beneficiaries") as batch:
        batch.add_column(sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("erased_at", _TS, nullable=True))
    op.create_table(
        "identities",
        sa.Column("beneficiary_id", sa.String(36), primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("national_number_index", sa.String(64), nullable=True, unique=True),
    )
    op.create_table(
        "data_keys",
        sa.Column("beneficiary_id", sa.String(36), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("master_key_id", sa.String(16), nullable=False),
    )
    op.create_table(
        "grant_versions",
        sa.Column("grant_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("grantee_kind", sa.String(20), nullable=False),
        sa.Column("grantee", sa.String(200), nullable=False),
        sa.Column("categories", sa.String(400), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("actions", sa.String(40), nullable=False),
        sa.Column("valid_from", _TS, nullable=False),
        sa.Column("valid_until", _TS, nullable=True),
        sa.Column("referent", sa.Boolean, nullable=False),
        sa.Column("transition_kind", sa.String(40), nullable=True),
        sa.Column("transition_days", sa.Integer, nullable=True),
        sa.Column("powers", sa.String(100), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("witness", sa.String(200), nullable=True),
        sa.Column("form_reference", sa.String(100), nullable=True),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_grant_versions_beneficiary", "grant_versions", ["beneficiary_id"])
    op.create_table(
        "exclusion_records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("lifted_at", _TS, nullable=True),
    )
    op.create_index("ix_exclusion_records_beneficiary", "exclusion_records", ["beneficiary_id"])
    op.create_table(
        "emergency_accesses",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Column("profession", sa.String(60), nullable=True),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("categories", sa.String(400), nullable=False),
        sa.Column("opened_at", _TS, nullable=False),
        sa.Column("until", _TS, nullable=False),
    )
    op.create_index("ix_emergency_accesses_beneficiary", "emergency_accesses", ["beneficiary_id"])
    op.create_table(
        "share_codes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
    )
    op.create_table(
        "redemption_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("failed_at", _TS, nullable=False),
    )
    op.create_index("ix_redemption_failures_subject", "redemption_failures", ["subject", "failed_at"])
    op.create_table(
        "receipts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("subject_ref", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("issued_at", _TS, nullable=False),
        sa.Column("jws", sa.Text, nullable=False),
    )
    op.create_index("ix_receipts_beneficiary", "receipts", ["beneficiary_id"])
    op.create_table(
        "projection_acks",
        sa.Column("projection", sa.String(40), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), primary_key=True),
        sa.Column("epoch", sa.Integer, nullable=False),
    )
    create_consent_projection_tables()


def downgrade() -> None:
    drop_consent_projection_tables()
    for table in ("projection_acks", "receipts", "redemption_failures", "share_codes",
                  "emergency_accesses", "exclusion_records", "grant_versions", "data_keys",
                  "identities"):
        op.drop_table(table)
    with op.batch_alter_table("beneficiaries") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("anonymous")
