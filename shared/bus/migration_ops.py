"""Alembic operations that create the bus tables in a service's first migration."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def create_bus_tables(*, outbox: bool = True, processed: bool = True) -> None:
    if outbox:
        op.create_table(
            "outbox",
            sa.Column("id", _BigId, primary_key=True, autoincrement=True),
            sa.Column("event_id", sa.String(36), nullable=False, unique=True),
            sa.Column("event_type", sa.String(120), nullable=False),
            sa.Column("routing_key", sa.String(200), nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sequence", sa.BigInteger, nullable=True, unique=True),
            sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        )
        op.create_index(
            "ix_outbox_unpublished",
            "outbox",
            ["id"],
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        )
    if processed:
        op.create_table(
            "processed_events",
            sa.Column("consumer", sa.String(120), primary_key=True),
            sa.Column("event_id", sa.String(36), primary_key=True),
            sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        )


def drop_bus_tables(*, outbox: bool = True, processed: bool = True) -> None:
    if processed:
        op.drop_table("processed_events")
    if outbox:
        op.drop_index("ix_outbox_unpublished", table_name="outbox")
        op.drop_table("outbox")
