"""Statements that read the same on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_ignoring_duplicates(session: Session, table: Table, values: dict[str, Any] | list[dict[str, Any]]):
    """INSERT ... ON CONFLICT DO NOTHING: a row whose key exists already is left as it is."""
    dialect = session.get_bind().dialect.name
    build = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return build(table).values(values).on_conflict_do_nothing()
