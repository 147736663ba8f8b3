"""Tables the database itself keeps append-only: UPDATE, DELETE (and TRUNCATE on PostgreSQL)
are refused by triggers, so not even a bug or a hand-typed statement rewrites history.

Used from a service's Alembic migration: ``refuse_changes("prefix", ["table", ...])`` in
``upgrade()`` and ``allow_changes("prefix", [...])`` in ``downgrade()``."""

from __future__ import annotations

from collections.abc import Iterable

from alembic import op


def refuse_changes(prefix: str, tables: Iterable[str], *, what: str = "this table") -> None:
    tables = list(tables)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {prefix}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{what} is append-only: % on % refused', TG_OP, TG_TABLE_NAME; "
            "END $$"
        )
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {prefix}_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_refuse_change()"
            )
        return
    for table in tables:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{what} is append-only: {action} on {table} refused'); END"
            )


def allow_changes(prefix: str, tables: Iterable[str]) -> None:
    tables = list(tables)
    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {prefix}_refuse_change()")
        return
    for table in tables:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
