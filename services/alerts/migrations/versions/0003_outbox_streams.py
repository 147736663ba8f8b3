"""Events numbered gap-free within their stream (the audit log checks the ``audit`` one).

Revision ID: alerts_0003
Revises: alerts_0002
Create Date: 2026-12-01
"""

from shared.bus.migration_ops import add_outbox_streams, drop_outbox_streams

revision = "alerts_0003"
down_revision = "alerts_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_streams()


def downgrade() -> None:
    drop_outbox_streams()
