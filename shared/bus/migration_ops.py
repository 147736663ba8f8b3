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


def add_outbox_streams() -> None:
    """Number events within their stream (``audit``, ``record``...), so a consumer of one stream
    sees a gap-free sequence. Rows numbered already get their stream number in their order."""
    op.add_column("outbox", sa.Column("stream", sa.String(40), nullable=True))
    op.add_column("outbox", sa.Column("stream_sequence", sa.BigInteger, nullable=True))
    bind = op.get_bind()
    outbox = sa.table("outbox", sa.column("id"), sa.column("routing_key"), sa.column("sequence"),
                      sa.column("stream"), sa.column("stream_sequence"))
    rows = bind.execute(sa.select(outbox.c.id, outbox.c.routing_key)
                        .where(outbox.c.sequence.is_not(None)).order_by(outbox.c.sequence)).all()
    following: dict[str, int] = {}
    for row in rows:
        stream = row.routing_key.split(".", 1)[0]
        following[stream] = following.get(stream, 0) + 1
        bind.execute(sa.update(outbox).where(outbox.c.id == row.id)
                     .values(stream=stream, stream_sequence=following[stream]))
    op.create_index("ux_outbox_stream_sequence", "outbox", ["stream", "stream_sequence"], unique=True)


def drop_outbox_streams() -> None:
    op.drop_index("ux_outbox_stream_sequence", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("stream_sequence")
        batch.drop_column("stream")


def add_outbox_created_at_index() -> None:
    """The index the relay's pruning finds the rows older than the retention by. On PostgreSQL it
    is built without blocking the writes of a large outbox (``CREATE INDEX CONCURRENTLY``,
    outside the migration's transaction)."""
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index("ix_outbox_created_at", "outbox", ["created_at"], postgresql_concurrently=True)
    else:
        op.create_index("ix_outbox_created_at", "outbox", ["created_at"])


def drop_outbox_created_at_index() -> None:
    op.drop_index("ix_outbox_created_at", table_name="outbox")
