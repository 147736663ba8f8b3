"""Who lifted a block, and when an emergency access was ended early and by whom.

Revision ID: consent_0005
Revises: consent_0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "consent_0005"
down_revision = "consent_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("exclusion_records", sa.Column("lifted_by", sa.String(200), nullable=True))
    op.add_column("emergency_accesses", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("emergency_accesses", sa.Column("closed_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("emergency_accesses") as batch:
        batch.drop_column("closed_by")
        batch.drop_column("closed_at")
    with op.batch_alter_table("exclusion_records") as batch:
        batch.drop_column("lifted_by")
