"""Statements that read the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, Table, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
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


class DirectStatement:
    """A Core statement that PostgreSQL runs straight from the driver's connection, compiled once
    and prepared on each connection: for the few statements every request runs (a read's
    first statement and its page, the audit event's insert), where SQLAlchemy's execution
    context and result rows cost more than the round trip. Rows come back as tuples.

    Elsewhere (SQLite) it runs through SQLAlchemy as any statement does. On PostgreSQL the
    values go to the driver as they are, but for the columns of ``UtcDateTime``, which are
    checked (a naive datetime is refused) and given in UTC as that type does; what comes back is
    what that type would give too, the sessions speaking UTC (``engine.py``). A statement with
    an expanding parameter (``IN`` a list) always runs through SQLAlchemy. Driver errors come
    back as SQLAlchemy's, and a connection the server dropped is not given back to the pool."""

    def __init__(self, statement: Any, *, column_keys: list[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = column_keys
        self._compiled: tuple[str, dict[str, Any], frozenset[str]] | None = None
        self._direct: bool | None = None

    def _prepare(self, dialect: Any) -> None:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        binds = compiled.binds.values()
        if any(bind.expanding for bind in binds):
            self._direct = False
            return
        aware = frozenset(name for name, bind in compiled.binds.items()
                          if isinstance(bind.type, UtcDateTime))
        defaults = {name: value for name, value in compiled.params.items() if value is not None}
        self._compiled = (str(compiled), defaults, aware)
        self._direct = True

    def _through_sqlalchemy(self, connection: Connection, params: dict[str, Any]) -> list[tuple]:
        result = connection.execute(self.statement, params)
        return [tuple(row) for row in result] if result.returns_rows else []

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[tuple]:
        """Run it with ``params`` on ``connection`` (in its transaction, if it has one); the
        rows it returns (none for an INSERT without RETURNING)."""
        if connection.dialect.name != "postgresql":
            return self._through_sqlalchemy(connection, params)
        if self._direct is None:
            self._prepare(connection.dialect)
        if not self._direct:
            return self._through_sqlalchemy(connection, params)
        sql, defaults, aware = self._compiled  # type: ignore[misc]
        values = {**defaults, **params} if defaults else dict(params)
        for name in aware & values.keys():
            value = values[name]
            if value is not None:
                if value.tzinfo is None:
                    raise ValueError("naive datetimes are not stored: give a time zone")
                values[name] = value.astimezone(UTC)
        raw = connection.connection.driver_connection
        try:
            cursor = raw.execute(sql, values, prepare=True)
            return cursor.fetchall() if cursor.description is not None else []
        except psycopg.Error as error:
            dropped = bool(raw.broken or raw.closed)
            if dropped:
                connection.invalidate(error)
            raise DBAPIError.instance(sql, values, error, psycopg.Error,
                                      connection_invalidated=dropped) from error
