"""The scan against the real PostgreSQL: two scanners at once share the due clocks (SKIP
LOCKED) and raise each alert once; a scan that dies half-way — its batch rolled back, or its
connection killed under it — loses nothing and raises nothing twice when it runs again."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from services.alerts.adapters import orm
from services.alerts.adapters.clock_store import WARN, due_row
from services.alerts.domain.clocks import Clock
from services.alerts.handlers import scan
from shared.alerting import events as alert_events
from shared.db.migrations import upgrade
from tests.support import infra
from tests.support.alerts_app import dispose, make_alerts

pytestmark = pytest.mark.integration


@pytest.fixture
def alerts(tmp_path, pg_url):
    upgrade("alerts", pg_url)
    harness = make_alerts(tmp_path, database_url=pg_url)
    yield harness
    dispose(harness)


def due_clocks(alerts, count: int, *, overdue=timedelta(days=1)) -> list[str]:
    """``count`` persons whose not-seen clock is due, straight into the clocks table."""
    ids = []
    with alerts.ctx.uow() as work:
        for _ in range(count):
            person = str(uuid.uuid4())
            anchor = alerts.now - timedelta(days=30) - overdue
            clock = Clock(person, "not_seen", person, f"seen:{uuid.uuid4()}", anchor, "normal",
                          anchor + timedelta(days=23), anchor + timedelta(days=30))
            work.clocks.put(clock, organisation="org-cpas", exists=False, now=alerts.now)
            work.clocks.schedule(due_row(clock, "org-cpas", WARN), exists=False)
            ids.append(clock.alert_id)
        work.commit()
    return ids


def opened_events(alerts) -> Counter:
    return Counter(e.payload["alert_id"] for e in alerts.outbox_events(alert_events.ALERT_OPENED))


def test_two_scanners_at_once_raise_each_alert_once(alerts):
    expected = set(due_clocks(alerts, 1200))
    first_holds_a_batch = threading.Event()
    second_did_a_batch = threading.Event()
    reports: dict[str, scan.ScanReport] = {}
    errors: list[BaseException] = []

    def first_hook(_work, batches):
        if batches == 1:  # hold this batch's rows locked until the other scanner got going
            first_holds_a_batch.set()
            assert second_did_a_batch.wait(60), "the second scanner never got a batch"

    def second_hook(_work, _batches):
        second_did_a_batch.set()

    def run(name, hook, start=None):
        try:
            if start is not None:
                assert start.wait(60)
            reports[name] = scan.raise_due(alerts.ctx, alerts.now, batch=100, after_batch=hook)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=("first", first_hook)),
               threading.Thread(target=run, args=("second", second_hook, first_holds_a_batch))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert reports["first"].opened > 0 and reports["second"].opened > 0  # the work was shared
    assert reports["first"].opened + reports["second"].opened == len(expected)
    events = opened_events(alerts)
    assert set(events) == expected and set(events.values()) == {1}
    assert len(alerts.alerts()) == len(expected)
    # Nothing left due, and a third scan finds nothing.
    assert scan.raise_due(alerts.ctx, alerts.now).opened == 0


class Crash(RuntimeError):
    pass


def test_a_scan_that_dies_half_way_loses_nothing(alerts):
    expected = set(due_clocks(alerts, 1000))

    def crash(_work, batches):
        if batches == 3:
            raise Crash("the worker died with a batch in hand")

    with pytest.raises(Crash):
        scan.raise_due(alerts.ctx, alerts.now, batch=200, after_batch=crash)
    assert len(alerts.alerts()) == 400  # two batches committed, the third rolled back
    report = scan.raise_due(alerts.ctx, alerts.now, batch=200)
    assert report.opened == 600
    events = opened_events(alerts)
    assert set(events) == expected and set(events.values()) == {1}


def test_a_scan_whose_connection_is_killed_mid_batch_loses_nothing(alerts, pg_url):
    expected = set(due_clocks(alerts, 600))
    admin = create_engine(infra.PG_SERVER, isolation_level="AUTOCOMMIT")

    def kill_my_connection(work, batches):
        if batches == 2:
            pid = work.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    try:
        with pytest.raises(DBAPIError):  # the commit fails: the server is gone under it
            scan.raise_due(alerts.ctx, alerts.now, batch=200, after_batch=kill_my_connection)
    finally:
        admin.dispose()
    assert len(alerts.alerts()) == 200
    scan.raise_due(alerts.ctx, alerts.now, batch=200)
    events = opened_events(alerts)
    assert set(events) == expected and set(events.values()) == {1}


def test_raising_the_same_period_again_changes_nothing(alerts):
    [alert_id] = due_clocks(alerts, 1)
    scan.raise_due(alerts.ctx, alerts.now)
    with alerts.ctx.uow() as work:
        [row] = [r for r in work.session.execute(orm.clocks.select()).all()]
        clock = Clock(row.beneficiary_id, row.rule, row.subject_id, row.period, row.anchor_at,
                      row.variant, row.warn_at, row.due_at)
        step = due_row(clock, row.organisation, WARN)
        again = work.alerts.open_many([step], [None], alerts.now, {"seen_again"})
        warned = work.alerts.warn_many([step], alerts.now)
        work.commit()
    assert again == [] and warned == []
    assert len(opened_events(alerts)) == 1
    assert [a["state"] for a in alerts.alerts()] == ["open"]


def test_the_events_written_by_the_database_are_those_the_service_writes(alerts):
    """On PostgreSQL a batch's events are built by its statement: same envelope, same payload
    keys and values as the handlers' own ``alert.*`` events."""
    from services.alerts.adapters.raising import EVENT_KEYS
    from services.alerts.handlers.publishing import AlertFacts, payload
    from shared.bus.envelope import encode

    [alert_id] = due_clocks(alerts, 1)
    scan.raise_due(alerts.ctx, alerts.now)
    [event] = alerts.outbox_events(alert_events.ALERT_OPENED)
    encode(event)  # a valid envelope, nothing personal
    data = alert_events.load(event.type, event.payload)
    [alert] = alerts.alerts()
    expected = payload(AlertFacts(alert_id, alert["beneficiary_id"], "not_seen", alert["subject_id"],
                                  "org-cpas"), "open", alerts.now, {"due_at": alert["due_at"].isoformat()})
    assert tuple(sorted(event.payload)) == tuple(sorted(EVENT_KEYS)) == tuple(sorted(expected))
    for key in ("alert_id", "beneficiary_id", "rule", "state", "subject_id", "organisation"):
        assert event.payload[key] == expected[key], key
    assert data["at"] == alerts.now
    assert datetime.fromisoformat(event.payload["due_at"]) == alert["due_at"]
    assert event.producer == "alerts" and event.occurred_at == alerts.now


def test_an_organisations_escalation_days_apply_on_postgresql(alerts):
    admin = alerts.as_("admin-1", role="admin", scopes="admin")
    answer = alerts.client.put("/organisations/org-cpas/rules/not_seen", json={"escalate_after_days": 1},
                               headers=admin)
    assert answer.status_code == 200, answer.get_json()
    due_clocks(alerts, 1)
    scan.raise_due(alerts.ctx, alerts.now)
    [alert] = alerts.alerts()
    assert alert["next_at"] == alerts.now + timedelta(days=1)


def test_close_ones_and_webhooks_from_the_databases_batch(tmp_path, pg_url):
    upgrade("alerts", pg_url)
    harness = make_alerts(tmp_path, database_url=pg_url, env={
        "ALERTS_WEBHOOK_ALLOW_PRIVATE": "true", "ALERTS_WEBHOOK_REQUIRE_HTTPS": "false"})
    try:
        person = harness.register("cm-1", org="org-cpas", profession="case_manager")
        harness.record.grant(person, grantee_kind="close_one", grantee="sister-1", categories=["alerts"])
        harness.sync()
        system = harness.as_("sys-cpas", role="system", org="org-cpas", profession="case_manager")
        hook = harness.client.post("/organisations/org-cpas/webhooks", json={"url": "http://127.0.0.1:9/x"},
                                   headers=system)
        assert hook.status_code == 201
        harness.contact(person)
        harness.advance(days=31)
        assert harness.scan().notices == 1
        [notice] = harness.outbox_events(alert_events.CLOSE_ONE_NOTICE)
        assert notice.payload["close_one"] == "sister-1"
        with harness.engine.connect() as connection:
            [delivery] = connection.execute(orm.webhook_deliveries.select()).all()
        body = json.loads(delivery.body)
        assert delivery.event_type == "alert.opened" and delivery.state == "pending"
        assert body["type"] == "alert.opened" and body["data"]["beneficiary_id"] == person
        assert set(body) == {"id", "type", "occurred_at", "data"}
    finally:
        dispose(harness)
