"""Journey entries, outbox and processed events.

Revision ID: record_0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from shared.bus.migration_ops import create_bus_tables, drop_bus_tables

revision = "record_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_subject", sa.String(120), nullable=False),
        sa.Column("author_organisation", sa.String(120), nullable=True),
        sa.Column("author_profession", sa.String(60), nullable=True),
        sa.Column("vocabulary_version", sa.String(20), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_entries_timeline", "entries", ["beneficiary_id", "occurred_at", "id"])
    create_bus_tables()


def downgrade() -> None:
    drop_bus_tables()
    op.drop_index("ix_entries_timeline", table_name="entries")
    op.drop_table("entries")
