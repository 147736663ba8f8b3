"""Each rule on a clock the test moves by hand: who is due when, and that a scan raises each
alert once."""

from __future__ import annotations

from datetime import timedelta

from services.alerts.adapters import orm
from shared.alerting import events as alert_events
from tests.alerts.conftest import inbox


def test_not_seen_for_thirty_days_raises_one_alert_and_only_one(alerts, person, cm):
    alerts.contact(person, ago=timedelta(hours=1))
    met_at = alerts.now - timedelta(hours=1)
    alerts.advance(days=30, hours=-2)
    assert alerts.scan().opened == 0
    assert [a["state"] for a in alerts.alerts()] == ["warning"]  # seven days before: a warning
    alerts.advance(hours=2)
    report = alerts.scan()
    assert report.opened == 1
    for _ in range(3):  # later scans: still the one alert
        alerts.advance(hours=12)
        assert alerts.scan().opened == 0
    [alert] = alerts.alerts()
    assert alert["state"] == "open" and alert["rule"] == "not_seen"
    assert alert["anchor_at"] == met_at
    assert len(alerts.outbox_events(alert_events.ALERT_OPENED)) == 1
    assert len(alerts.outbox_events(alert_events.ALERT_WARNED)) == 1
    [item] = inbox(alerts, cm)
    assert item["alert_id"] == alert["alert_id"] and item["state"] == "open"
    assert item["since"].startswith(met_at.date().isoformat())


def test_an_attempt_does_not_reset_the_clock(alerts, person, cm):
    alerts.contact(person, ago=timedelta(hours=1))
    alerts.advance(days=20)
    alerts.contact(person, ago=timedelta(hours=1), outcome="attempt")
    alerts.advance(days=10)
    assert alerts.scan().opened == 1
    last = alerts.client.get(f"/beneficiaries/{person}/last-seen", headers=cm).get_json()
    assert last["last_attempt_at"] > last["last_seen_at"]


def test_a_contact_resolves_the_alert(alerts, person, cm):
    alerts.contact(person)
    alerts.advance(days=31)
    alerts.scan()
    [alert] = alerts.alerts()
    alerts.contact(person, ago=timedelta(minutes=5))
    [before] = alerts.alerts(alert_id=alert["alert_id"])
    assert before["state"] == "resolved" and before["resolution"] == "seen_again"
    [resolved] = alerts.outbox_events(alert_events.ALERT_RESOLVED)
    assert resolved.payload["alert_id"] == alert["alert_id"]
    assert resolved.payload["automatic"] is True
    assert inbox(alerts, cm) == []
    assert alerts.count(orm.alerts) == 1
