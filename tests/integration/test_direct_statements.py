"""Statements run straight from the driver (``DirectStatement``) give what SQLAlchemy gives, on
PostgreSQL (the direct way) and on SQLite (through SQLAlchemy), refuse what SQLAlchemy refuses,
keep to the caller's transaction, and leave no broken connection in the pool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    exc,
    insert,
    select,
    text,
)

from shared.db.bulk import among_parameter
from shared.db.statements import DirectStatement
from shared.db.types import UtcDateTime

metadata = MetaData()
things = Table(
    "direct_things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(36), nullable=True),
    Column("blob", LargeBinary, nullable=True),
    Column("at", UtcDateTime(), nullable=True),
)
ROWS = [
    {"id": 1, "name": "a", "blob": b"\x00\x01", "at": datetime(2026, 1, 1, tzinfo=UTC)},
    {"id": 2, "name": None, "blob": None, "at": datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))},
    {"id": 3, "name": "c'; DROP TABLE direct_things; --", "blob": b"", "at": None},
]
INSERT = DirectStatement(insert(things), column_keys=["id", "name", "blob", "at"])


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, tmp_path):
    if request.param == "postgresql":
        request.applymarker(pytest.mark.integration)
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'direct.db'}"
    engine = create_engine(url, pool_size=1, max_overflow=0)
    if request.param == "postgresql":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _utc(dbapi_connection, _record):  # as shared.db.engine sets every session
            dbapi_connection.execute("SET TIME ZONE 'UTC'")
            dbapi_connection.commit()
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _fill(engine):
    with engine.begin() as connection:
        for row in ROWS:
            assert INSERT.rows(connection, row) == []


def test_rows_are_those_sqlalchemy_gives_with_their_types(engine):
    _fill(engine)
    query = select(things).where(things.c.id >= bindparam("low")).order_by(things.c.id.desc())
    direct = DirectStatement(query)
    with engine.connect() as connection:
        through = [tuple(r) for r in connection.execute(query, {"low": 1})]
        got = direct.rows(connection, {"low": 1})
        again = direct.rows(connection, {"low": 2})  # compiled and prepared once, run again
    assert got == through
    assert [r[0] for r in again] == [3, 2]
    assert got[2][3] == datetime(2026, 1, 1, tzinfo=UTC) and got[2][3].tzinfo is not None
    assert got[1][3] == datetime(2026, 1, 1, tzinfo=UTC)  # 02:00+02:00, given back in UTC
    assert got[0][1] == ROWS[2]["name"] and got[2][2] == b"\x00\x01"


def test_a_list_of_values_is_one_parameter(engine):
    _fill(engine)
    dialect = engine.dialect.name
    direct = DirectStatement(select(things.c.id).where(among_parameter(dialect, things.c.name, "names"))
                             .order_by(things.c.id))
    with engine.connect() as connection:
        assert direct.rows(connection, {"names": ["a", ROWS[2]["name"], "zz"]}) == [(1,), (3,)]
        assert direct.rows(connection, {"names": []}) == []


def test_a_naive_time_is_refused_as_sqlalchemy_refuses_it(engine):
    with pytest.raises((ValueError, exc.StatementError), match="naive"), engine.begin() as connection:
        INSERT.rows(connection, {"id": 9, "name": "x", "blob": None, "at": datetime(2026, 1, 1)})
    with engine.connect() as connection:
        assert connection.execute(select(things)).all() == []


def test_it_keeps_to_the_callers_transaction(engine):
    with pytest.raises(RuntimeError), engine.begin() as connection:
        INSERT.rows(connection, ROWS[0])
        raise RuntimeError("the change fails after the insert")
    with engine.connect() as connection:
        assert connection.execute(select(things)).all() == []


def test_a_driver_error_is_sqlalchemys_and_the_transaction_is_rolled_back(engine):
    _fill(engine)
    with pytest.raises(exc.IntegrityError), engine.begin() as connection:
        INSERT.rows(connection, {"id": 4, "name": "d", "blob": None, "at": None})
        INSERT.rows(connection, ROWS[0])  # the same key again
    with engine.connect() as connection:
        assert [r[0] for r in connection.execute(select(things.c.id).order_by(things.c.id))] == [1, 2, 3]


@pytest.mark.integration
def test_a_connection_the_server_dropped_is_not_given_back_to_the_pool(pg_url):
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)
    metadata.create_all(engine)
    try:
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with create_engine(pg_url).connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()
            with pytest.raises(exc.DBAPIError) as raised:
                DirectStatement(select(things.c.id)).rows(connection, {})
            assert raised.value.connection_invalidated
        with engine.connect() as connection:  # the pool's one connection is a new one
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
            assert DirectStatement(select(things.c.id)).rows(connection, {}) == []
    finally:
        engine.dispose()
