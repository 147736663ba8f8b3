"""The index the outbox relay's pruning finds old rows by (``outbox.created_at``): without it,
every minute the relay scanned the whole outbox, which grows by one row with every read.

Revision ID: consent_0006
Revises: consent_0005
Create Date: 2026-12-04
"""

from shared.bus.migration_ops import add_outbox_created_at_index, drop_outbox_created_at_index

revision = "consent_0006"
down_revision = "consent_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_created_at_index()


def downgrade() -> None:
    drop_outbox_created_at_index()
