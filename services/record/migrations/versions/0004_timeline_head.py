"""The head of each person's timeline, sealed beside their read model (``people.timeline_head``).

Empty at first: a person's head is made by their next write, and until then their timeline is
read from the entries, as before.

Revision ID: record_0004
Revises: record_0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "record_0004"
down_revision = "record_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("timeline_head", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("timeline_head")
