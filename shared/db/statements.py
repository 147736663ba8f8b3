"""Statements that read the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.db.types import UtcDateTime


def insert_ignoring_duplicates(session: Session, table: Table, values: dict[str, Any] | list[dict[str, Any]]):
    """INSERT ... ON CONFLICT DO NOTHING: a row whose key exists already is left as it is."""
    dialect = session.get_bind().dialect.name
    build = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return build(table).values(values).on_conflict_do_nothing()


def among(session: Session, column: Any, values: list[Any]) -> Any:
    """``column IN (values)``: on PostgreSQL as ``= ANY(:array)``, one parameter however many
    values (a thousand placeholders cost more to send and parse than the query itself)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def copy_rows(session: Session, table: Table | str, columns: list[str],
              rows: list[dict[str, Any]]) -> None:
    """``COPY … FROM STDIN`` of these rows, in the session's transaction (PostgreSQL only): a
    thousand rows for about the cost of a few single-row INSERTs."""
    preparer = session.get_bind().dialect.identifier_preparer
    name = preparer.format_table(table) if isinstance(table, Table) else preparer.quote(table)
    aware = set()
    if isinstance(table, Table):
        aware = {c for c in columns if isinstance(table.c[c].type, UtcDateTime)}
    raw = session.connection().connection.driver_connection
    statement = f"COPY {name} ({', '.join(preparer.quote(c) for c in columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            for column in aware:
                value = row[column]
                if isinstance(value, datetime) and value.tzinfo is None:
                    raise ValueError("naive datetimes are not stored: give a time zone")
            copy.write_row(tuple(row[c] for c in columns))


def insert_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows that all name the same columns: by COPY on PostgreSQL, through
    executemany elsewhere."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    copy_rows(session, table, list(rows[0]), rows)


def staged(session: Session, table: Table, rows: list[dict[str, Any]]) -> str:
    """The rows in a temporary table shaped like ``table`` (PostgreSQL only), emptied first and
    at commit; its name is returned, for an ``INSERT … SELECT … ON CONFLICT`` from it."""
    preparer = session.get_bind().dialect.identifier_preparer
    name = f"staged_{table.name}"
    session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {preparer.quote(name)} "
                         f"(LIKE {preparer.format_table(table)}) ON COMMIT DELETE ROWS"))
    session.execute(text(f"TRUNCATE {preparer.quote(name)}"))
    columns = list(rows[0])
    for column in columns:
        table.c[column]  # a column of the table, or KeyError
    copy_rows(session, name, columns, rows)
    return name
