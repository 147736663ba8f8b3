"""Beneficiaries, outbox and processed events.

Revision ID: consent_0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from shared.bus.migration_ops import create_bus_tables, drop_bus_tables

revision = "consent_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "beneficiaries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by_organisation", sa.String(120), nullable=False),
    )
    create_bus_tables()


def downgrade() -> None:
    drop_bus_tables()
    op.drop_table("beneficiaries")
