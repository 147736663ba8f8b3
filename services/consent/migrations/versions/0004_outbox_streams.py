"""Events numbered gap-free within their stream (the audit log checks the ``audit`` one).

Revision ID: consent_0004
Revises: consent_0003
Create Date: 2026-12-01
"""

from shared.bus.migration_ops import add_outbox_streams, drop_outbox_streams

revision = "consent_0004"
down_revision = "consent_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_streams()


def downgrade() -> None:
    drop_outbox_streams()
