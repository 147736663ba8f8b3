"""Pruning the outbox (shared/bus/relay.py, ``OutboxRelay.prune``) on SQLite, the database of a
development machine: which rows go, which stay. The same against PostgreSQL and a running relay
is in tests/integration/test_bus.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from tests.support import effects


def _row(n: int, stream: str | None, number: int | None, published: datetime | None) -> dict:
    return {"event_id": f"00000000-0000-4000-8000-{n:012d}", "event_type": f"{stream or 'test'}.happened",
            "routing_key": f"{stream or 'test'}.happened", "body": "{}", "created_at": published or NOW,
            "sequence": None if number is None else n, "stream": stream, "stream_sequence": number,
            "published_at": published}


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_old_published_rows_go_the_newest_of_each_stream_and_the_unpublished_stay(tmp_path):
    engine = effects.make_schema(f"sqlite:///{tmp_path / 'outbox.db'}")
    old, recent = NOW - timedelta(days=8), NOW - timedelta(days=2)
    rows = [_row(1, "test", 1, old), _row(2, "audit", 1, old), _row(3, "test", 2, old),
            _row(4, "audit", 2, recent), _row(5, "test", 3, old),  # the newest of 'test', old as it is
            _row(6, "audit", 3, old),  # claimed later than 4, published long ago (a clock moved)
            _row(7, None, None, None)]  # committed, not yet claimed
    with engine.begin() as connection:
        connection.execute(insert(effects.outbox), rows)
    relay = effects.make_relay(engine, "amqp://unused", prune_batch=2)
    assert [relay.prune(now=NOW) for _ in range(3)] == [2, 1, 0]
    with engine.connect() as connection:
        left = connection.execute(select(effects.outbox.c.id).order_by(effects.outbox.c.id)).scalars().all()
    assert left == [4, 5, 6, 7]
    assert relay.pruned == 3
