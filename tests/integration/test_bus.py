"""The message bus against the real RabbitMQ and PostgreSQL: nothing lost, nothing applied twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pika
import pytest
from sqlalchemy import select

from shared.bus.topology import EXCHANGE, dead_letter_queue, declare_topology
from tests.support import effects, infra

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


class Running:
    """Run a relay or consumer on a thread for the length of a test."""

    def __init__(self, part):
        self.part = part
        self.thread = threading.Thread(target=part.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.part

    def __exit__(self, *exc):
        self.part.stop()
        self.thread.join(timeout=20)
        if self.thread.is_alive():
            import faulthandler
            faulthandler.dump_traceback()
        assert not self.thread.is_alive(), "the bus part did not stop"


def outbox_state(engine):
    with engine.connect() as connection:
        rows = connection.execute(
            select(effects.outbox.c.sequence, effects.outbox.c.published_at)
        ).all()
    return rows


def test_relay_publishes_with_confirms_and_gap_free_sequences(pg_url, amqp_url):
    engine = effects.make_schema(pg_url)
    effects.write_events(engine, 300)
    with Running(effects.make_relay(engine, amqp_url, batch_size=64, poll_seconds=0.05)), \
         Running(effects.make_consumer(engine, amqp_url)):
        infra.wait_until(lambda: effects.effect_counts(engine) == (300, 300), message="300 effects")
    rows = outbox_state(engine)
    assert all(published is not None for _, published in rows)
    assert sorted(seq for seq, _ in rows) == list(range(1, 301))


def test_redelivered_event_has_no_second_effect(pg_url, amqp_url):
    engine = effects.make_schema(pg_url)
    effects.write_events(engine, 1)
    with engine.connect() as connection:
        body = connection.execute(select(effects.outbox.c.body)).scalar_one()
    with Running(effects.make_consumer(engine, amqp_url)) as consumer:
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        channel = connection.channel()
        channel.confirm_delivery()
        # The queue and its bindings exist before anything is published (declaring is idempotent).
        declare_topology(channel, (1.0,), effects.SUBSCRIPTIONS)
        for _ in range(5):  # the same event, five times, as a broker redelivery would
            channel.basic_publish(EXCHANGE, "test.happened", body.encode())
        connection.close()
        infra.wait_until(lambda: consumer.applied + consumer.duplicates == 5, message="all five handled")
    assert (consumer.applied, consumer.duplicates) == (1, 4)
    assert effects.effect_counts(engine) == (1, 1)


def _queue_exists(url, queue):
    try:
        infra.queue_depth(url, queue)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False


def test_broker_restart_while_writing_loses_nothing_and_applies_nothing_twice(pg_url, amqp_url):
    engine = effects.make_schema(pg_url)
    writer = threading.Thread(target=effects.write_events, args=(engine, 1000), kwargs={"pause": 0.004})
    with Running(effects.make_relay(engine, amqp_url, batch_size=50, poll_seconds=0.02)), \
         Running(effects.make_consumer(engine, amqp_url, batch_size=50, prefetch=100)):
        writer.start()
        infra.wait_until(lambda: effects.effect_counts(engine)[0] >= 100, message="first effects")
        infra.restart_broker(down_seconds=2.0)
        writer.join(timeout=120)
        assert not writer.is_alive()
        infra.wait_until(lambda: effects.effect_counts(engine)[1] >= 1000, timeout=180,
                         message="every event applied after the restart")
        time.sleep(1.0)  # let any redelivery arrive: it must have no effect
    assert effects.effect_counts(engine) == (1000, 1000)
    rows = outbox_state(engine)
    assert len(rows) == 1000 and all(published is not None for _, published in rows)
    assert sorted(seq for seq, _ in rows) == list(range(1, 1001))


def test_consumer_killed_mid_batch_loses_nothing_and_applies_nothing_twice(pg_url, amqp_url):
    engine = effects.make_schema(pg_url)
    effects.write_events(engine, 1000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "tests.support.effects", pg_url, amqp_url, "0.002"]
    with Running(effects.make_relay(engine, amqp_url, batch_size=200, poll_seconds=0.02)):
        first = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE)
        try:
            infra.wait_until(lambda: effects.effect_counts(engine)[0] >= 150, message="first batches")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        before = effects.effect_counts(engine)
        assert 0 < before[0] < 1000, "the kill must land in the middle of the work"
        second = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE)
        try:
            infra.wait_until(lambda: effects.effect_counts(engine)[1] >= 1000, timeout=120,
                             message="every event applied after the restart")
            time.sleep(0.5)
        finally:
            second.terminate()
            second.wait(timeout=20)
    assert effects.effect_counts(engine) == (1000, 1000)


def test_poison_message_goes_to_the_dead_letter_queue_and_does_not_block(pg_url, amqp_url):
    engine = effects.make_schema(pg_url)
    consumer = effects.make_consumer(engine, amqp_url, max_attempts=3, retry_delays=(0.2,))
    with Running(consumer):
        infra.wait_until(lambda: _queue_exists(amqp_url, effects.QUEUE), message="queue declared")
        from sqlalchemy.orm import Session

        from shared.bus.outbox import Outbox

        with Session(engine) as session, session.begin():
            Outbox(effects.outbox, "test").add(session, "test.happened", {"poison": True})
        effects.write_events(engine, 20)
        with Running(effects.make_relay(engine, amqp_url, poll_seconds=0.02)):
            connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
            channel = connection.channel()
            channel.confirm_delivery()
            declare_topology(channel, (0.2,), effects.SUBSCRIPTIONS)
            channel.basic_publish(EXCHANGE, "test.garbage", b"not an event at all")
            connection.close()
            dead = dead_letter_queue(effects.QUEUE)
            infra.wait_until(lambda: infra.queue_depth(amqp_url, dead) == 2, timeout=30,
                             message="poison and garbage dead-lettered")
            infra.wait_until(lambda: effects.effect_counts(engine) == (20, 20), message="others applied")
    assert consumer.dead_lettered == 2
    assert consumer.retried == 2  # tries 1 and 2 went to the delay queue, try 3 to the DLQ
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    method, properties, body = connection.channel().basic_get(dead, auto_ack=False)
    connection.close()
    assert method is not None
    assert properties.headers["x-relais-attempts"] in (1, 3)
    assert infra.queue_depth(amqp_url, effects.QUEUE) == 0


def test_a_relay_that_loses_its_claim_stops_publishing_until_it_holds_it_again(pg_url, amqp_url):
    from sqlalchemy import create_engine, text

    engine = effects.make_schema(pg_url)
    first = effects.make_relay(engine, amqp_url, poll_seconds=0.02)
    second = effects.make_relay(create_engine(pg_url), amqp_url, poll_seconds=0.02)
    with Running(effects.make_consumer(engine, amqp_url)), Running(first):
        effects.write_events(engine, 50)
        infra.wait_until(lambda: effects.effect_counts(engine) == (50, 50), message="first 50")
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # as a database restart or a dropped session would
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first._lock_pid})
        admin.dispose()
        with Running(second):
            effects.write_events(engine, 100, start=50)
            infra.wait_until(lambda: effects.effect_counts(engine) == (150, 150), message="all 150")
            infra.wait_until(lambda: first.published + second.published >= 150, message="marked")
            time.sleep(0.5)
    assert first.published + second.published == 150  # no row published by both
    rows = outbox_state(engine)
    assert sorted(seq for seq, _ in rows) == list(range(1, 151))


def test_the_relay_wakes_when_urgent_outbox_rows_are_committed_not_at_its_poll(pg_url, amqp_url):
    from sqlalchemy import create_engine, text

    engine = effects.make_schema(pg_url)
    relay = effects.make_relay(engine, amqp_url, poll_seconds=3600)  # the poll cannot be it
    with Running(effects.make_consumer(engine, amqp_url)), Running(relay):
        infra.wait_until(lambda: relay.listener is not None and relay.listener.backend_pid,
                         message="the relay listening")
        effects.write_events(engine, 10, urgent=True)
        infra.wait_until(lambda: effects.effect_counts(engine) == (10, 10), message="first 10")
        infra.wait_until(lambda: relay.published >= 10, message="first 10 confirmed")
        time.sleep(0.5)  # let the pumps that followed the confirms run: the relay is idle now
        effects.write_events(engine, 10, start=10, urgent=True)
        infra.wait_until(lambda: effects.effect_counts(engine) == (20, 20), timeout=60,
                         message="the next 10, well before the next poll")
        # The listening session drops (a database restart would do that): it listens again
        # and looks at the outbox once, so nothing committed meanwhile waits for the poll.
        old = relay.listener.backend_pid
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": old})
        admin.dispose()
        effects.write_events(engine, 10, start=20, urgent=True)
        infra.wait_until(lambda: relay.listener.backend_pid not in (None, old), timeout=60,
                         message="listening again")
        infra.wait_until(lambda: effects.effect_counts(engine) == (30, 30), timeout=60,
                         message="the last 10")
    rows = outbox_state(engine)
    assert sorted(seq for seq, _ in rows) == list(range(1, 31))


def test_consumer_whose_database_sessions_drop_acks_nothing_early_and_applies_everything_once(
    pg_url, amqp_url
):
    from sqlalchemy import create_engine, text

    engine = effects.make_schema(pg_url)
    own = create_engine(pg_url, pool_pre_ping=True,
                        connect_args={"application_name": "relais-test-consumer"})
    consumer = effects.make_consumer(own, amqp_url, batch_size=50, prefetch=150, delay_seconds=0.001)
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    dropped = 0
    writer = threading.Thread(target=effects.write_events, args=(engine, 600), kwargs={"pause": 0.004})
    try:
        with Running(effects.make_relay(engine, amqp_url, poll_seconds=0.02)), Running(consumer):
            writer.start()
            infra.wait_until(lambda: effects.effect_counts(engine)[0] >= 50, message="first effects")
            # Drop the consumer's database sessions again and again while events keep coming,
            # as a database restart would, in the middle of its batches.
            while writer.is_alive():
                with admin.connect() as connection:
                    dropped += len(connection.execute(text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'relais-test-consumer'"
                    )).all())
                time.sleep(0.2)
            writer.join()
            infra.wait_until(lambda: effects.effect_counts(engine)[1] >= 600, timeout=120,
                             message="every event applied")
            time.sleep(0.5)  # any redelivery still in flight must add nothing
    finally:
        admin.dispose()
        own.dispose()
    assert dropped > 0
    assert effects.effect_counts(engine) == (600, 600)
    assert consumer.dead_lettered == 0


def test_an_event_that_is_not_urgent_waits_for_the_poll_and_notifies_nobody(pg_url, amqp_url):
    """Ordinary events (every read's audit event) do not notify: a notifying commit would
    serialise with every other one on the server."""
    from sqlalchemy import create_engine, text

    engine = effects.make_schema(pg_url)
    listening = create_engine(pg_url, isolation_level="AUTOCOMMIT").connect()
    try:
        listening.execute(text("LISTEN relais_outbox"))
        effects.write_events(engine, 3)
        raw = listening.connection.driver_connection
        assert list(raw.notifies(timeout=0.5, stop_after=1)) == []
        effects.write_events(engine, 1, start=3, urgent=True)
        assert [n.channel for n in raw.notifies(timeout=5, stop_after=1)] == ["relais_outbox"]
    finally:
        listening.close()


def _write_other(engine, count: int) -> None:
    """Events of a second stream (``other``), which the test consumer does not subscribe to."""
    from sqlalchemy.orm import Session

    from shared.bus.outbox import Outbox

    box = Outbox(effects.outbox, "test")
    for n in range(count):
        with Session(engine) as session, session.begin():
            box.add(session, "other.happened", {"n": n})


def _outbox_rows(engine):
    o = effects.outbox.c
    with engine.connect() as connection:
        return connection.execute(select(o.id, o.stream, o.stream_sequence, o.sequence, o.published_at)
                                  .order_by(o.id)).all()


def test_published_rows_past_the_retention_are_pruned_and_numbering_goes_on(pg_url, amqp_url):
    from sqlalchemy import text

    engine = effects.make_schema(pg_url)
    effects.write_events(engine, 40)
    _write_other(engine, 5)
    with Running(effects.make_relay(engine, amqp_url, poll_seconds=0.05)), \
         Running(effects.make_consumer(engine, amqp_url)):
        infra.wait_until(lambda: all(row.published_at for row in _outbox_rows(engine)), message="published")
    with engine.begin() as connection:  # a week and a day ago, all but the last ten of the test stream
        connection.execute(text("UPDATE outbox SET published_at = published_at - interval '8 days', "
                                "created_at = created_at - interval '8 days' "
                                "WHERE NOT (stream = 'test' AND stream_sequence > 30)"))
    effects.write_events(engine, 3, start=40)  # committed, not yet published
    relay = effects.make_relay(engine, amqp_url, prune_batch=7)
    counts = []
    while deleted := relay.prune():
        counts.append(deleted)
    assert counts == [7, 7, 7, 7, 6]  # test 1..30 and other 1..4: the newest of 'other' stays
    rows = _outbox_rows(engine)
    assert sorted((r.stream, r.stream_sequence) for r in rows if r.published_at) == (
        [("other", 5)] + [("test", n) for n in range(31, 41)])
    assert len([r for r in rows if r.published_at is None]) == 3
    # A relay starting on the pruned table numbers on: nothing is numbered twice, nothing skipped.
    _write_other(engine, 2)
    with Running(effects.make_relay(engine, amqp_url, poll_seconds=0.05)), \
         Running(effects.make_consumer(engine, amqp_url)):
        infra.wait_until(lambda: effects.effect_counts(engine) == (43, 43), message="43 effects")
        infra.wait_until(lambda: all(row.published_at for row in _outbox_rows(engine)), message="published")
    rows = _outbox_rows(engine)
    assert sorted(r.stream_sequence for r in rows if r.stream == "test") == list(range(31, 44))
    assert sorted(r.stream_sequence for r in rows if r.stream == "other") == [5, 6, 7]
    assert sorted(r.sequence for r in rows)[-5:] == list(range(46, 51))


def test_pruning_finds_its_rows_by_index_and_does_not_read_the_whole_outbox(pg_url):
    """The outbox grows by a row with every read and keeps a week of them: the pruning, every
    minute, must not read it whole to find that nothing is old enough yet."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, text

    engine = effects.make_schema(pg_url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(insert(effects.outbox), [
            {"event_id": f"00000000-0000-4000-8000-{n:012d}", "event_type": "test.happened",
             "routing_key": "test.happened", "body": "{}", "created_at": now, "sequence": n,
             "stream": "test", "stream_sequence": n, "published_at": now} for n in range(1, 20_001)])
        connection.execute(text("ANALYZE outbox"))
    relay = effects.make_relay(engine, "amqp://unused")
    compiled = relay.prunable(now - timedelta(seconds=relay.retention_seconds)).compile(dialect=engine.dialect)
    with engine.connect() as connection:
        plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params).scalar()

    def scans(node):
        yield node.get("Node Type"), node.get("Relation Name"), node.get("Index Name")
        for child in node.get("Plans", []):
            yield from scans(child)

    found = list(scans(plan[0]["Plan"]))
    assert ("Seq Scan", "outbox", None) not in found, found
    assert any(index == "ix_outbox_created_at" for _, _, index in found), found
    assert relay.prune(now=now) == 0


def test_a_running_relay_prunes_what_it_published_once_past_the_retention(pg_url, amqp_url):
    engine = effects.make_schema(pg_url)
    relay = effects.make_relay(engine, amqp_url, poll_seconds=0.05, retention_seconds=0.5,
                               prune_every_seconds=0.1)
    with Running(relay), Running(effects.make_consumer(engine, amqp_url)):
        effects.write_events(engine, 60)
        _write_other(engine, 3)
        infra.wait_until(lambda: effects.effect_counts(engine) == (60, 60), message="60 effects")
        infra.wait_until(lambda: len(_outbox_rows(engine)) == 2, timeout=20, message="pruned")
    assert [(r.stream, r.stream_sequence) for r in sorted(_outbox_rows(engine), key=lambda r: r.stream)] == [
        ("other", 3), ("test", 60)]
    assert relay.pruned == 61
