"""Ingestion against the real RabbitMQ and PostgreSQL: acked after commit, duplicates make one
leaf, a sequence gap is reported until filled, and a broker restart loses nothing."""

from __future__ import annotations

import threading
import time
import uuid

import pika
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from services.audit import reports
from services.audit.adapters.repository import AuditLogRepository
from services.audit.domain import checkpoints, merkle
from shared.bus.envelope import encode
from shared.bus.topology import EXCHANGE
from tests.support import audit_bus, audit_log, infra

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path):
    return audit_log.settings_for(tmp_path, checkpoint_every=500, checkpoint_seconds=1.0)


@pytest.fixture
def audit_db(pg_url):
    engine = audit_log.migrated(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def source_url():
    url = infra.create_database("relais_test_source")
    yield url
    infra.drop_database(url)


def _publish(amqp_url, envelopes):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for envelope in envelopes:
            channel.basic_publish(EXCHANGE, envelope.type, encode(envelope),
                                  pika.BasicProperties(delivery_mode=2, message_id=envelope.id))
    finally:
        connection.close()


def _queue_ready(amqp_url):
    try:
        infra.queue_depth(amqp_url, "audit.ingest")
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False


def _report(engine, settings):
    with Session(engine) as session:
        return reports.verification_report(session, settings.origin, audit_log.public_key(settings))


def test_postgresql_refuses_changes_to_the_log_and_tampering_is_found(audit_db, settings):
    person = str(uuid.uuid4())
    audit_log.ingest(audit_db, settings, [audit_log.envelope(n, person) for n in range(1, 11)])
    for statement in ("UPDATE audit_log SET outcome = 'deny'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log", "UPDATE audit_checkpoints SET size = 0"):
        with pytest.raises(DatabaseError, match="append-only"), audit_db.begin() as connection:
            connection.execute(text(statement))
    audit_log.lift_protection(audit_db)
    audit_log.alter(audit_db, 4, "purpose", "research")
    report = _report(audit_db, settings)
    assert report["ok"] is False and report["tree"]["first_bad_index"] == 4


def test_two_appenders_at_once_never_fork_the_log(audit_db, settings):
    people = [str(uuid.uuid4()) for _ in range(7)]
    errors = []

    def appender(source):
        try:
            for batch in range(15):
                audit_log.ingest(audit_db, settings, [
                    audit_log.envelope(batch * 10 + n + 1, people[n % 7], producer=source) for n in range(10)
                ])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(source,)) for source in ("record", "alerts")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    rows = audit_log.rows(audit_db)
    assert [r["leaf_index"] for r in rows] == list(range(300))
    audit_log.checkpoint(audit_db, settings)
    report = _report(audit_db, settings)
    assert report["ok"] is True and report["persons_index_matches"] is True, report
    with Session(audit_db) as session:
        repository = AuditLogRepository(session)
        latest = checkpoints.open_note(repository.latest_checkpoint()["note"], settings.origin,
                                       audit_log.public_key(settings))
        for index in (0, 1, 137, 255, 299):
            proof = repository.prove(merkle.inclusion_plan(index, latest.size))
            merkle.verify_inclusion(index, latest.size, repository.entry(index)["leaf_hash"], proof, latest.root)


def test_a_duplicate_delivery_makes_one_leaf_and_a_gap_is_reported_until_filled(audit_db, amqp_url, settings):
    person = str(uuid.uuid4())
    events = {n: audit_log.envelope(n, person) for n in range(1, 6)}
    with audit_bus.Running(audit_bus.audit_consumer(audit_db, amqp_url, settings)):
        infra.wait_until(lambda: _queue_ready(amqp_url), message="queue declared")
        _publish(amqp_url, [events[1], events[1], events[2], events[1], events[4], events[5], events[4]])
        infra.wait_until(lambda: audit_bus.log_counts(audit_db)[0] >= 4, message="four entries")
        infra.wait_until(lambda: infra.queue_depth(amqp_url, "audit.ingest") == 0, message="drained")
        assert audit_bus.log_counts(audit_db) == (4, 4)
        gaps = _report(audit_db, settings)["sequence_gaps"]
        assert gaps == [{"source": "record", "complete_up_to": 2, "highest": 5, "missing": [{"from": 3, "to": 3}]}]
        _publish(amqp_url, [events[3]])
        infra.wait_until(lambda: audit_bus.log_counts(audit_db)[0] == 5, message="the missing event")
    report = _report(audit_db, settings)
    assert report["sequence_gaps"] == [] and report["sources"][0]["complete_up_to"] == 5
    assert audit_bus.log_counts(audit_db) == (5, 5)


def test_broker_restart_during_a_burst_of_ten_thousand_accesses_loses_none(
    audit_db, source_url, amqp_url, settings
):
    count = 10_000
    people = [str(uuid.uuid4()) for _ in range(50)]
    source = audit_bus.source(source_url)
    writer = threading.Thread(target=audit_bus.write_accesses, args=(source, count, people))
    try:
        with audit_bus.Running(audit_bus.relay(source, amqp_url, batch_size=500, poll_seconds=0.02)), \
             audit_bus.Running(audit_bus.audit_consumer(audit_db, amqp_url, settings)):
            writer.start()
            infra.wait_until(lambda: audit_bus.log_counts(audit_db)[0] >= 1000, timeout=120,
                             message="the first thousand entries")
            infra.restart_broker(down_seconds=2.0)
            writer.join(timeout=300)
            assert not writer.is_alive()
            infra.wait_until(lambda: audit_bus.log_counts(audit_db)[1] >= count, timeout=300, interval=0.5,
                             message="every access in the log after the restart")
            time.sleep(1.0)  # any redelivery still in flight must add nothing
        assert audit_bus.log_counts(audit_db) == (count, count)
        audit_log.checkpoint(audit_db, settings)
        report = _report(audit_db, settings)
        assert report["sequence_gaps"] == []
        assert report["sources"] == [{"source": "record", "complete_up_to": count, "highest": count, "missing": []}]
        assert report["ok"] is True and report["tree"]["entries"] == count
    finally:
        source.dispose()
