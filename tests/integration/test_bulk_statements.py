"""One INSERT for many rows and one match against many values, on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)

from shared.db.bulk import among, among_parameter, insert_rows
from shared.db.types import UtcDateTime

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(36), nullable=True),
    Column("blob", LargeBinary, nullable=True),
    Column("big", BigInteger, nullable=True),
    Column("at", UtcDateTime(), nullable=True),
)

ROWS = [
    {"name": "a", "blob": b"\x00\x01", "big": 2**40, "at": datetime(2026, 1, 1, tzinfo=UTC)},
    {"name": None, "blob": None, "big": None,
     "at": datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))},
    {"name": "c'; DROP TABLE things; --", "blob": b"", "big": -1, "at": None},
]


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, tmp_path):
    if request.param == "postgresql":
        request.applymarker(pytest.mark.integration)
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'bulk.db'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_insert_rows_stores_every_row_with_its_column_types(engine):
    with engine.begin() as connection:
        insert_rows(connection, things, ROWS)
        insert_rows(connection, things, [])
        insert_rows(connection, things, [{"name": None, "blob": None, "big": None, "at": None}])
    with engine.connect() as connection:
        stored = [dict(r._mapping) for r in connection.execute(select(things).order_by(things.c.id))]
    assert [r["id"] for r in stored] == [1, 2, 3, 4]
    assert [(r["name"], r["blob"], r["big"]) for r in stored] == [
        (row["name"], row["blob"], row["big"]) for row in ROWS
    ] + [(None, None, None)]
    assert stored[0]["at"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert stored[1]["at"] == datetime(2026, 1, 1, tzinfo=UTC) and stored[1]["at"].tzinfo is not None
    assert stored[2]["at"] is None


def test_insert_rows_refuses_a_naive_time_like_any_insert(engine):
    with pytest.raises(Exception, match="naive"), engine.begin() as connection:
        insert_rows(connection, things, [{"name": "x", "blob": None, "big": None,
                                          "at": datetime(2026, 1, 1)}])


def test_among_matches_the_given_values_only(engine):
    with engine.begin() as connection:
        insert_rows(connection, things, ROWS)
    with engine.connect() as connection:
        found = connection.execute(
            select(things.c.name).where(among(connection, things.c.name, ["a", "zz", ROWS[2]["name"]]))
        ).scalars().all()
        none = connection.execute(select(things.c.name).where(among(connection, things.c.name, []))).all()
    assert sorted(found) == sorted(["a", ROWS[2]["name"]])
    assert none == []


def test_among_parameter_takes_its_values_at_execution(engine):
    with engine.begin() as connection:
        insert_rows(connection, things, ROWS)
    with engine.connect() as connection:
        query = select(things.c.name).where(among_parameter(connection, things.c.name, "names"))
        assert connection.execute(query, {"names": ["a", "zz"]}).scalars().all() == ["a"]
        assert connection.execute(query, {"names": []}).scalars().all() == []
