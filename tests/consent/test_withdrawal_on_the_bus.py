"""Withdrawal against the real RabbitMQ and PostgreSQL: a projection in another database
consumes consent's events; strict mode answers only once that projection enforces the
withdrawal, so no read is permitted after the revoking call returned."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from services.consent.adapters import orm
from shared.consent.decision import Actor, Question
from shared.db.migrations import upgrade
from tests.consent.conftest import CASE_MANAGER
from tests.support import infra
from tests.support.consent_app import make_consent
from tests.support.consent_bus import ProjectionService, Running, consent_parts

pytestmark = pytest.mark.integration

HOUSING = {"org": "org-housing", "profession": "housing_worker"}
READER = Actor("hw-1", "professional", "org-housing", "housing_worker")


@pytest.fixture
def record_url():
    url = infra.create_database()
    yield url
    infra.drop_database(url)


def _setup(tmp_path, pg_url, amqp_url, record_url, mode):
    upgrade("consent", pg_url)
    consent = make_consent(tmp_path, pg_url, create_schema=False, env={
        "AMQP_URL": amqp_url, "CONSENT_WITHDRAWAL_MODE": mode,
        "CONSENT_STRICT_PROJECTIONS": "record", "CONSENT_STRICT_TIMEOUT_SECONDS": "30"})
    record = ProjectionService(record_url, amqp_url)
    running = Running([*consent_parts(pg_url, amqp_url), record.consumer, record.relay]).start()
    return consent, record, running


def _grant_to_housing(consent, person):
    response = consent.client.post(f"/beneficiaries/{person}/grants", json={
        "grantee_kind": "organisation", "grantee": "org-housing", "categories": ["steps"]},
        headers=consent.as_("cm-1", **CASE_MANAGER))
    assert response.status_code == 201
    return response.get_json()["grant_id"]


def _permitted(record, policy, person) -> bool:
    question = Question(person, "read", ("steps",), "care_coordination", datetime.now(UTC))
    return bool(record.decide(READER, question, policy).permitted)


def _race(consent, record, policy, person, grant_id, headers) -> tuple[int, list[float]]:
    """Readers hammer the projection while the grant is revoked; returns (permits before the
    call returned, start times of permitted reads that began after it returned)."""
    stop = threading.Event()
    reads: list[tuple[float, bool]] = []

    def reader() -> None:
        while not stop.is_set():
            started = time.monotonic()
            reads.append((started, _permitted(record, policy, person)))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        infra.wait_until(lambda: len(reads) >= 20, timeout=30, interval=0.005,
                         message="reads under way before the revocation")
        response = consent.client.post(f"/beneficiaries/{person}/grants/{grant_id}/revoke",
                                       headers=headers)
        returned_at = time.monotonic()
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["enforcement"]["confirmed"] is True
        infra.wait_until(lambda: sum(s > returned_at for s, _ in reads) >= 50, timeout=30,
                         interval=0.005, message="reads after the revocation returned")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    before = sum(ok for s, ok in reads if s < returned_at)
    return before, [s for s, ok in reads if ok and s >= returned_at]


def test_strict_withdrawal_no_read_is_permitted_after_the_call_returns(
        tmp_path, pg_url, amqp_url, record_url):
    consent, record, running = _setup(tmp_path, pg_url, amqp_url, record_url, "strict")
    policy = consent.app.extensions["relais.consent"].policy
    try:
        cm = consent.as_("cm-1", **CASE_MANAGER)
        person = consent.client.post("/beneficiaries", headers=cm).get_json()["id"]
        late_permits: list[float] = []
        permits_before = 0
        for _round in range(5):
            grant_id = _grant_to_housing(consent, person)
            infra.wait_until(lambda: _permitted(record, policy, person), timeout=30,
                             interval=0.01, message="the projection permits the new grant")
            before, late = _race(consent, record, policy, person, grant_id, cm)
            permits_before += before
            late_permits.extend(late)
        assert permits_before > 0  # the reads really raced a live grant
        assert late_permits == []
    finally:
        running.stop()
        consent.engine.dispose()
        record.engine.dispose()


def test_eventual_withdrawal_reaches_the_projection(tmp_path, pg_url, amqp_url, record_url):
    consent, record, running = _setup(tmp_path, pg_url, amqp_url, record_url, "eventual")
    policy = consent.app.extensions["relais.consent"].policy
    try:
        cm = consent.as_("cm-1", **CASE_MANAGER)
        person = consent.client.post("/beneficiaries", headers=cm).get_json()["id"]
        grant_id = _grant_to_housing(consent, person)
        infra.wait_until(lambda: _permitted(record, policy, person), timeout=30, interval=0.01,
                         message="the projection permits the grant")
        response = consent.client.post(f"/beneficiaries/{person}/grants/{grant_id}/revoke", headers=cm)
        assert response.status_code == 200
        assert response.get_json()["enforcement"]["mode"] == "eventual"
        infra.wait_until(lambda: not _permitted(record, policy, person), timeout=30, interval=0.01,
                         message="the projection denies after the revocation")
        # exclusions travel the same way, and redelivery changes nothing
        consent.client.post(f"/beneficiaries/{person}/exclusions",
                            json={"kind": "organisation", "target": "org-housing"}, headers=cm)
        _grant_to_housing(consent, person)
        with consent.engine.connect() as connection:
            published = connection.execute(orm.outbox.select()).fetchall()
        infra.wait_until(lambda: record.consumer.applied >= sum(
            1 for row in published if row.event_type.startswith("consent.")), timeout=30,
            interval=0.01, message="every consent event applied")
        assert not _permitted(record, policy, person)
    finally:
        running.stop()
        consent.engine.dispose()
        record.engine.dispose()


def test_registering_and_redeeming_with_wait_answer_once_the_projection_permits(
        tmp_path, pg_url, amqp_url, record_url):
    """What the pages rely on to open a person's page right after registering them or
    redeeming their share code: the answer comes once the projection applied the grant."""
    consent, record, running = _setup(tmp_path, pg_url, amqp_url, record_url, "strict")
    policy = consent.app.extensions["relais.consent"].policy
    try:
        cm = consent.as_("cm-1", **CASE_MANAGER)
        registered = consent.client.post("/beneficiaries?wait=true", json={"categories": ["steps"]},
                                         headers=cm)
        assert registered.status_code == 201
        assert registered.get_json()["enforcement"]["confirmed"] is True
        person = registered.get_json()["id"]
        cm_reader = Actor("cm-1", "professional", "org-cpas", "case_manager")
        question = Question(person, "read", ("steps",), "care_coordination", datetime.now(UTC))
        assert record.decide(cm_reader, question, policy).permitted  # no waiting here

        code = consent.client.post(f"/beneficiaries/{person}/share-codes",
                                   json={"categories": ["steps"], "grantee_kind": "organisation"},
                                   headers=cm).get_json()["code"]
        housing = consent.as_("hw-1", **HOUSING)
        redeemed = consent.client.post("/share-codes/redeem?wait=true", json={"code": code},
                                       headers=housing)
        assert redeemed.status_code == 201, redeemed.get_json()
        assert redeemed.get_json()["enforcement"]["confirmed"] is True
        assert _permitted(record, policy, person)  # at once, not eventually
    finally:
        running.stop()
        consent.engine.dispose()
        record.engine.dispose()
