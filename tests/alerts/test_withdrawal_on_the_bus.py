"""Strict withdrawal reaches the alerts service through the real RabbitMQ and PostgreSQL: the
consent service answers a revocation only once the alerts worker's own consumer applied it and
acknowledged it, and from then on the alert is hidden from the reader who lost the grant."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from services.alerts import consumers
from services.alerts.adapters import orm
from services.alerts.handlers.common import may_see
from services.consent import consumers as consent_consumers
from services.consent.adapters import orm as consent_orm
from shared.bus.consumer import Consumer
from shared.bus.outbox import Outbox
from shared.bus.relay import OutboxRelay
from shared.bus.topology import Subscription
from shared.consent.decision import Actor
from shared.db.migrations import upgrade
from tests.support import infra
from tests.support.alerts_app import dispose, make_alerts
from tests.support.consent_app import make_consent
from tests.support.consent_bus import Running
from tests.support.record_app import CASE_MANAGER

pytestmark = pytest.mark.integration

SUBSCRIPTIONS = (Subscription(consumers.CONSENT_QUEUE, ("consent.#",)), consent_consumers.SUBSCRIPTION)
READER = Actor("sw-2", "professional", "org-ssm", "social_worker")


@pytest.fixture
def consent_url():
    url = infra.create_database()
    yield url
    infra.drop_database(url)


def test_a_strict_revocation_waits_for_the_alerts_projection(tmp_path, pg_url, consent_url, amqp_url):
    upgrade("consent", consent_url)
    upgrade("alerts", pg_url)
    consent = make_consent(tmp_path / "consent", consent_url, create_schema=False, env={
        "AMQP_URL": amqp_url, "CONSENT_WITHDRAWAL_MODE": "strict",
        "CONSENT_STRICT_PROJECTIONS": "alerts", "CONSENT_STRICT_TIMEOUT_SECONDS": "30"})
    alerts = make_alerts(tmp_path / "alerts", database_url=pg_url)
    engine = alerts.engine
    handler = consumers.consumers(alerts.ctx, Outbox(orm.outbox, "alerts"))[consumers.CONSENT_QUEUE]
    parts = [
        OutboxRelay(consent.engine, consent_orm.outbox, amqp_url, poll_seconds=0.005, subscriptions=SUBSCRIPTIONS),
        Consumer(consent_consumers.ACKS_QUEUE, consent_consumers.projection_acknowledged, consent.engine,
                 consent_orm.processed_events, amqp_url, idle_flush_seconds=0.005, subscriptions=SUBSCRIPTIONS),
        Consumer(consumers.CONSENT_QUEUE, handler, engine, orm.processed_events, amqp_url,
                 idle_flush_seconds=0.005, subscriptions=SUBSCRIPTIONS),
        OutboxRelay(engine, orm.outbox, amqp_url, poll_seconds=0.005, subscriptions=SUBSCRIPTIONS),
    ]
    running = Running(parts).start()
    try:
        cm = consent.as_("cm-1", **CASE_MANAGER)
        person = consent.client.post("/beneficiaries", headers=cm).get_json()["id"]
        grant = consent.client.post(f"/beneficiaries/{person}/grants", headers=cm, json={
            "grantee_kind": "professional", "grantee": "sw-2", "categories": ["alerts"]}).get_json()

        def sees() -> bool:
            with alerts.ctx.uow() as work:
                return may_see(alerts.ctx, work, READER, person, alerts.now) is not None

        infra.wait_until(sees, timeout=30, interval=0.01, message="the alerts projection has the grant")
        revoked = consent.client.post(f"/beneficiaries/{person}/grants/{grant['grant_id']}/revoke", headers=cm)
        assert revoked.status_code == 200, revoked.get_json()
        assert revoked.get_json()["enforcement"]["confirmed"] is True
        assert not sees()  # at the moment the call returned, not eventually
        with Session(engine) as session:
            acks = [r for r in session.execute(orm.outbox.select()).all()
                    if r.event_type == "alerts.consent_applied"]
        assert acks
    finally:
        running.stop()
        consent.engine.dispose()
        dispose(alerts)
