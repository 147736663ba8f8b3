"""Statements over many rows at once: one INSERT for a whole batch, one match against many values.

On PostgreSQL a batch of rows goes in as one ``INSERT ... SELECT unnest(...)`` with one array
parameter per column, and ``column IN (values)`` becomes ``column = ANY(array)``: one statement
and a handful of parameters whatever the batch size, so the statement is compiled, cached and
planned once. (An executemany sends one statement per row; a multi-row VALUES list is a new
statement for each batch size.) Other databases get the plain executemany and IN list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, any_, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement


def _dialect(db: Session | Connection | str) -> str:
    if isinstance(db, str):
        return db  # a dialect's name, for a statement built once per dialect
    connection = db.connection() if isinstance(db, Session) else db
    return connection.dialect.name


def insert_rows(db: Session | Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one statement.

    Values go through the columns' own types, as with any SQLAlchemy insert."""
    if not rows:
        return
    if _dialect(db) != "postgresql":
        db.execute(insert(table), list(rows))
        return
    names = tuple(rows[0])
    db.execute(_unnest_insert(table, names), {f"bulk_{name}": [row[name] for row in rows] for name in names})


@lru_cache(maxsize=64)
def _unnest_insert(table: Table, names: tuple[str, ...]) -> Executable:
    arrays = [bindparam(f"bulk_{name}", type_=ARRAY(table.c[name].type)) for name in names]
    # Set-returning functions side by side in one select list advance in lockstep (PostgreSQL
    # 10 and later), so the n-th element of every array makes the n-th row.
    source = select(*(func.unnest(array) for array in arrays))
    return insert(table).from_select(list(names), source)


def among(db: Session | Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL one array parameter, not one per value."""
    values = list(values)
    if _dialect(db) == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def among_parameter(db: Session | Connection | str, column: Any, name: str) -> ColumnElement[bool]:
    """``among`` for a statement built once: the values are given at execution as ``name``.
    ``db`` may be the dialect's name."""
    if _dialect(db) == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))
