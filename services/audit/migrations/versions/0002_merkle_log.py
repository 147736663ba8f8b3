"""The tamper-evident log: leaf index and hash per entry, tree nodes, head, checkpoints, person
chains and source sequences; the log tables refuse UPDATE and DELETE.

Entries written before this revision are placed in the tree in the order they were stored.

Revision ID: audit_0002
Revises: audit_0001
Create Date: 2026-11-22
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from services.audit.domain.entries import event_from_payload
from services.audit.domain.log import Head, SourceState, advance, append

revision = "audit_0002"
down_revision = "audit_0001"
branch_labels = None
depends_on = None

LOG_TABLES = ("audit_log", "audit_tree_nodes", "audit_checkpoints")
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("leaf_index", sa.BigInteger, nullable=True))
    op.add_column("audit_log", sa.Column("leaf_hash", sa.LargeBinary(32), nullable=True))
    op.add_column("audit_log", sa.Column("crude", sa.String(1), nullable=True))
    op.add_column("audit_log", sa.Column("purpose", sa.String(200), nullable=True))
    op.add_column("audit_log", sa.Column("person_seq", sa.Integer, nullable=True))
    op.create_index("ux_audit_log_leaf_index", "audit_log", ["leaf_index"], unique=True)
    op.create_index("ix_audit_log_person_index", "audit_log", ["beneficiary_id", "leaf_index"])
    op.create_index(
        "ix_audit_log_org_person", "audit_log", ["actor_organisation", "beneficiary_id", "occurred_at"]
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["actor_subject", "leaf_index"])
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("persons", sa.BigInteger, nullable=False),
        sa.Column("persons_root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("frontier", sa.LargeBinary, nullable=False),
        sa.Column("last_leaf", sa.LargeBinary(32), nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger, nullable=False),
        sa.Column("checkpoint_at", sa.DateTime(timezone=True), nullable=True),
    )
    persons = op.create_table(
        "audit_person_heads",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("last_index", sa.BigInteger, nullable=False),
        sa.Column("head", sa.LargeBinary(32), nullable=False),
    )
    sources = op.create_table(
        "audit_sources",
        sa.Column("source", sa.String(40), primary_key=True),
        sa.Column("contiguous", sa.BigInteger, nullable=False),
        sa.Column("highest", sa.BigInteger, nullable=False),
    )
    _place_existing_entries(head, persons, sources)
    _refuse_changes()


def _place_existing_entries(head: sa.Table, persons: sa.Table, sources: sa.Table) -> None:
    bind = op.get_bind()
    log = sa.table(
        "audit_log", sa.column("id"), sa.column("canonical"), sa.column("received_at"),
        sa.column("leaf_index"), sa.column("leaf_hash"), sa.column("crude"), sa.column("purpose"),
        sa.column("person_seq"),
    )
    rows = bind.execute(sa.select(log.c.id, log.c.canonical, log.c.received_at).order_by(log.c.id)).all()
    events = []
    for row in rows:
        old = json.loads(row.canonical)
        events.append(event_from_payload(
            old["event_id"], old["type"], old["source"], old["source_sequence"],
            datetime.fromisoformat(old["occurred_at"]), old.get("payload") or {},
        ))
    appended = append(Head(0, []), events, {}, datetime.now(UTC))
    for row, entry in zip(rows, appended.entries, strict=True):
        bind.execute(sa.update(log).where(log.c.id == row.id).values(
            canonical=entry.canonical.decode(), leaf_index=entry.index, leaf_hash=entry.leaf_hash,
            crude=entry.event.body["crude"], purpose=entry.event.body["purpose"],
            person_seq=entry.person.seq if entry.person else None,
        ))
    if appended.nodes:
        op.bulk_insert(
            sa.table("audit_tree_nodes", sa.column("level"), sa.column("idx"), sa.column("hash")),
            [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in appended.nodes],
        )
    new_head = appended.head
    assert new_head is not None
    op.bulk_insert(head, [{"id": 1, "size": new_head.size, "frontier": new_head.pack(),
                           "last_leaf": new_head.last_leaf, "checkpoint_size": 0, "checkpoint_at": None}])
    op.bulk_insert(persons, [{"person_id": p.person_id, "count": p.count, "last_index": p.last_index,
                              "head": p.head} for p in appended.persons.values()])
    received: dict[str, set[int]] = {}
    for event in events:
        if event.source_sequence is not None:
            received.setdefault(event.source, set()).add(event.source_sequence)
    states = [advance(SourceState(s, 0, 0), numbers) for s, numbers in received.items()]
    op.bulk_insert(sources, [{"source": st.source, "contiguous": st.contiguous, "highest": st.highest}
                             for st in states])


def _refuse_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME; "
            "END $$"
        )
        for table in LOG_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
            )
        return
    for table in LOG_TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {action} on {table} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in LOG_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
    else:
        for table in LOG_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    for table in ("audit_sources", "audit_person_heads", "audit_head", "audit_checkpoints", "audit_tree_nodes"):
        op.drop_table(table)
    for index in ("ix_audit_log_subject", "ix_audit_log_org_person", "ix_audit_log_person_index",
                  "ux_audit_log_leaf_index"):
        op.drop_index(index, table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        for column in ("person_seq", "purpose", "crude", "leaf_hash", "leaf_index"):
            batch.drop_column(column)
