"""The audit log and processed events.

Revision ID: audit_0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from shared.bus.migration_ops import create_bus_tables, drop_bus_tables

revision = "audit_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_sequence", sa.BigInteger, nullable=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beneficiary_id", sa.String(36), nullable=True),
        sa.Column("actor_subject", sa.String(120), nullable=True),
        sa.Column("actor_organisation", sa.String(120), nullable=True),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("canonical", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_log_beneficiary", "audit_log", ["beneficiary_id", "id"])
    op.create_index("ix_audit_log_source_sequence", "audit_log", ["source", "source_sequence"])
    create_bus_tables(outbox=False)


def downgrade() -> None:
    drop_bus_tables(outbox=False)
    op.drop_index("ix_audit_log_source_sequence", table_name="audit_log")
    op.drop_index("ix_audit_log_beneficiary", table_name="audit_log")
    op.drop_table("audit_log")
