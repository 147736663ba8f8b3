"""Statements that read the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.db.types import UtcDateTime


def insert_ignoring_duplicates(session: Session, table: Table, values: dict[str, Any] | list[dict[str, Any]]):
    """INSERT ... ON CONFLICT DO NOTHING: a row whose key exists already is left as it is."""
    dialect = session.get_bind().dialect.name
    build = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return build(table).values(values).on_conflict_do_nothing()


def _array_type(column_type: Any) -> str:
    """The PostgreSQL array element type for a column, for ``unnest``."""
    kind = getattr(column_type, "impl", column_type)
    for python_type, name in ((BigInteger, "int8"), (Integer, "int4"), (Boolean, "bool"),
                              (DateTime, "timestamptz"), (Date, "date"), (LargeBinary, "bytea"),
                              (Text, "text"), (String, "text")):
        if isinstance(kind, python_type):
            return name
    raise TypeError(f"no array type for {column_type!r}")


def unnest_select(session: Session, table: Table, columns: list[str], alias: str = "u") -> str:
    """``SELECT … FROM unnest(:c0::type[], …) AS u(…)`` over ``columns`` of ``table``: many
    rows in one statement with one parameter per column (PostgreSQL only)."""
    preparer = session.get_bind().dialect.identifier_preparer
    arrays = ", ".join(f"CAST(:{name} AS {_array_type(table.c[name].type)}[])" for name in columns)
    names = ", ".join(preparer.quote(name) for name in columns)
    return f"SELECT * FROM unnest({arrays}) AS {alias}({names})"


def column_arrays(table: Table, rows: list[dict[str, Any]], columns: list[str]) -> dict[str, list[Any]]:
    """One list per column, values checked as the column's type would check them."""
    arrays: dict[str, list[Any]] = {name: [] for name in columns}
    aware = {name for name in columns if isinstance(table.c[name].type, UtcDateTime)}
    for row in rows:
        for name in columns:
            value = row[name]
            if name in aware and isinstance(value, datetime) and value.tzinfo is None:
                raise ValueError("naive datetimes are not stored: give a time zone")
            arrays[name].append(value)
    return arrays


def insert_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: in one statement on PostgreSQL (``INSERT … SELECT FROM unnest`` of one
    array per column, so a thousand rows cost one round trip and one small query), through
    executemany elsewhere. Every row names the same columns."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    preparer = session.get_bind().dialect.identifier_preparer
    statement = (f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)}) "
                 f"{unnest_select(session, table, columns)}")
    session.execute(text(statement), column_arrays(table, rows, columns))
