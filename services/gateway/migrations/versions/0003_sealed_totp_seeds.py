"""TOTP seeds sealed at rest (AES-256-GCM under a key derived from the gateway key, bound to the
user id); the seeds stored in plain text by earlier versions are sealed in place.

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None

_users = sa.table("users", sa.column("user_id", sa.String), sa.column("totp_secret", sa.String))


def _box():
    from services.gateway.adapters.secret_box import totp_box
    from services.gateway.settings import gateway_key
    from shared.config import load_settings

    return totp_box(gateway_key(load_settings("gateway")))


def _rows(connection):
    return connection.execute(
        sa.select(_users.c.user_id, _users.c.totp_secret).where(_users.c.totp_secret.is_not(None))
    ).all()


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column("totp_secret", type_=sa.String(255), existing_type=sa.String(64),
                           existing_nullable=True)
    from services.gateway.adapters.secret_box import SecretBox, seal_totp

    connection = op.get_bind()
    rows = [r for r in _rows(connection) if not SecretBox.is_sealed(r.totp_secret)]
    if not rows:
        return
    box = _box()
    for row in rows:
        connection.execute(sa.update(_users).where(_users.c.user_id == row.user_id)
                           .values(totp_secret=seal_totp(box, row.user_id, row.totp_secret)))


def downgrade() -> None:
    from services.gateway.adapters.secret_box import SecretBox, open_totp

    connection = op.get_bind()
    rows = [r for r in _rows(connection) if SecretBox.is_sealed(r.totp_secret)]
    if rows:
        box = _box()
        for row in rows:
            connection.execute(sa.update(_users).where(_users.c.user_id == row.user_id)
                               .values(totp_secret=open_totp(box, row.user_id, row.totp_secret)))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("totp_secret", type_=sa.String(64), existing_type=sa.String(255),
                           existing_nullable=True)
