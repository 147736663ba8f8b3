"""The pool on the real PostgreSQL: a connection that waited in the pool is checked before use
and replaced when the server cut it; one just returned is handed out without a round trip."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, event, text

from shared.db import engine as engines


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _kill(pg_url: str, pid: int) -> None:
    admin = create_engine(pg_url)
    try:
        with admin.begin() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        deadline = time.monotonic() + 10
        with admin.connect() as connection:
            while connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                     {"pid": pid}).scalar() and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        admin.dispose()


def test_a_connection_cut_while_it_waited_is_replaced_before_use(pg_url, monkeypatch):
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.2)
    engine = engines.make_engine(pg_url)
    try:
        first = _backend_pid(engine)
        assert _backend_pid(engine) == first  # the same pooled connection
        _kill(pg_url, first)
        time.sleep(0.3)
        second = _backend_pid(engine)  # no error: the dead one was found and replaced
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_back_a_moment_ago_is_not_pinged(pg_url):
    engine = engines.make_engine(pg_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: statements.append(statement))
    pings = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(1) or original(dbapi_connection)
    try:
        for _ in range(5):
            _backend_pid(engine)
        assert pings == [] and len(statements) == 5
        time.sleep(engines.PING_AFTER_IDLE_SECONDS + 0.1)
        _backend_pid(engine)
        assert pings == [1]
    finally:
        engine.dispose()
