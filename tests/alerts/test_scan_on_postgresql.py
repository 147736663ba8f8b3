"""The scan against the real PostgreSQL: two scanners at once share the due clocks (SKIP
LOCKED) and raise each alert once; a scan that dies half-way — its batch rolled back, or its
connection killed under it — loses nothing and raises nothing twice when it runs again."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from services.alerts.adapters import orm
from services.alerts.adapters.clock_store import ARMED
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
            work.clocks.put(clock, organisation="org-cpas", stage=ARMED, exists=False, now=alerts.now)
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
        clock = work.clocks.of_person(row.beneficiary_id)[("not_seen", row.subject_id)]
        again = work.alerts.open_many([clock], [None], alerts.now, {"seen_again"})
        warned = work.alerts.warn_many([clock], alerts.now)
        work.commit()
    assert again == [] and warned == []
    assert len(opened_events(alerts)) == 1
    assert [a["state"] for a in alerts.alerts()] == ["open"]
