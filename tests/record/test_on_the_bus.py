"""The record service against the real PostgreSQL and RabbitMQ: its worker's consent consumer
keeps the projection every read is decided from. Strict withdrawal: once the revoking call
returned, not one timeline read of the record service is served; erasure crosses the bus and
shreds the journey."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine

from services.record import consumers as record_consumers
from services.record.adapters import orm
from shared.bus.consumer import Consumer
from shared.bus.outbox import Outbox
from shared.bus.relay import OutboxRelay
from shared.bus.topology import SUBSCRIPTIONS
from shared.db.migrations import upgrade
from tests.support import infra
from tests.support.consent_bus import Running, consent_parts
from tests.support.record_app import CASE_MANAGER, make_record

pytestmark = pytest.mark.integration

HOUSING = {"org": "org-housing", "profession": "housing_worker"}


@pytest.fixture
def consent_url():
    url = infra.create_database()
    yield url
    infra.drop_database(url)


def record_worker_parts(url: str, amqp_url: str) -> list:
    """What `relais worker record` runs: the relay and the two consumers."""
    engine = create_engine(url, pool_size=10)
    handlers = record_consumers.consumers(Outbox(orm.outbox, "record"))
    parts: list = [OutboxRelay(engine, orm.outbox, amqp_url, poll_seconds=0.005)]
    for queue, handler in handlers.items():
        parts.append(Consumer(queue, handler, engine, orm.processed_events, amqp_url,
                              prefetch=50, batch_size=50, idle_flush_seconds=0.005))
    return parts


@pytest.fixture
def bus_record(tmp_path, pg_url, consent_url, amqp_url):
    upgrade("record", pg_url)
    upgrade("consent", consent_url)
    env = {"AMQP_URL": amqp_url, "CONSENT_WITHDRAWAL_MODE": "strict",
           "CONSENT_STRICT_PROJECTIONS": "record", "CONSENT_STRICT_TIMEOUT_SECONDS": "30"}
    harness = make_record(tmp_path, database_url=pg_url, consent_database_url=consent_url, env=env)
    harness.sync = lambda: 0  # the bus delivers, not the test
    assert {s.queue for s in record_consumers.SUBSCRIPTIONS} <= {s.queue for s in SUBSCRIPTIONS}
    running = Running([*consent_parts(consent_url, amqp_url),
                       *record_worker_parts(pg_url, amqp_url)]).start()
    yield harness
    running.stop()
    harness.engine.dispose()
    harness.consent.engine.dispose()


def _status(record, person, headers) -> int:
    return record.client.get(f"/beneficiaries/{person}/timeline", headers=headers).status_code


def _race(record, person, reader_headers, revoker_headers, grant_id) -> tuple[int, list[float]]:
    """Readers read the timeline while the grant is revoked: (reads served before the call
    returned, start times of reads that began after it returned and were not refused)."""
    stop = threading.Event()
    reads: list[tuple[float, int]] = []

    def reader() -> None:
        client = record.app.test_client()
        while not stop.is_set():
            started = time.monotonic()
            status = client.get(f"/beneficiaries/{person}/timeline", headers=reader_headers).status_code
            reads.append((started, status))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        infra.wait_until(lambda: len(reads) >= 10, timeout=30, interval=0.005, message="reads under way")
        revoked = record.consent.client.post(f"/beneficiaries/{person}/grants/{grant_id}/revoke",
                                             headers=revoker_headers)
        returned_at = time.monotonic()
        assert revoked.status_code == 200, revoked.get_json()
        assert revoked.get_json()["enforcement"]["confirmed"] is True
        infra.wait_until(lambda: sum(s > returned_at for s, _ in reads) >= 20, timeout=30,
                         interval=0.005, message="reads after the revocation")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    served = sum(status == 200 for s, status in reads if s < returned_at)
    return served, [s for s, status in reads if s >= returned_at and status != 404]


def test_strict_withdrawal_no_timeline_is_served_after_the_call_returns(bus_record):
    record = bus_record
    cm = record.consent.as_("cm-1", **CASE_MANAGER)
    person = record.consent.client.post("/beneficiaries", headers=cm).get_json()["id"]
    housing = record.as_("hw-1", **HOUSING)
    late: list[float] = []
    served_before = 0
    for _round in range(3):
        given = record.consent.client.post(f"/beneficiaries/{person}/grants", headers=cm, json={
            "grantee_kind": "organisation", "grantee": "org-housing", "categories": ["steps"]})
        assert given.status_code == 201
        infra.wait_until(lambda: _status(record, person, housing) == 200, timeout=30, interval=0.01,
                         message="record serves the new grant")
        served, after = _race(record, person, housing, cm, given.get_json()["grant_id"])
        served_before += served
        late.extend(after)
    assert served_before > 0  # the reads raced a live grant
    assert late == []


def test_erasure_crosses_the_bus_and_shreds_the_journey(bus_record):
    record = bus_record
    cm_consent = record.consent.as_("cm-1", **CASE_MANAGER)
    person = record.consent.client.post("/beneficiaries", headers=cm_consent).get_json()["id"]
    cm = record.as_("cm-1", **CASE_MANAGER)
    body = {"occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "modality": "phone", "outcome": "met"}
    infra.wait_until(lambda: record.client.post(f"/beneficiaries/{person}/contacts", json=body,
                                                headers=cm).status_code == 201,
                     timeout=30, interval=0.05, message="record knows the person")
    keys = record.app.extensions["relais.record"].keys
    from sqlalchemy.orm import Session

    with Session(record.engine) as session:
        assert keys.find(session, person) is not None
    me = record.consent.as_("bea", role="beneficiary", beneficiary=person, scopes="self")
    assert record.consent.client.post("/me/erasure", headers=me).status_code in (200, 202)

    def shredded() -> bool:
        with Session(record.engine) as session:
            return keys.find(session, person) is None

    infra.wait_until(shredded, timeout=30, interval=0.05, message="record shredded the journey")
    assert _status(record, person, cm) == 404
