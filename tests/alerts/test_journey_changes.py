"""Corrections and voids recompute last seen and the clocks; the exit-protocol and step rules;
and the record service's open-alert count follows the alert events (the shared contract)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.alerts.adapters import orm
from shared.alerting import events as alert_events
from tests.alerts.conftest import inbox, raised

STABLE = {"housing": "stable", "close_ones": "present", "income": "secured", "health_follow_up": "yes"}


def last_seen(alerts, person, headers):
    return alerts.client.get(f"/beneficiaries/{person}/last-seen", headers=headers).get_json()


def test_voiding_the_last_contact_brings_back_the_one_before(alerts, person, cm):
    first = alerts.contact(person, ago=timedelta(days=40))
    second = alerts.contact(person, ago=timedelta(days=1))
    assert last_seen(alerts, person, cm)["last_seen_at"].startswith(
        (alerts.now - timedelta(days=1)).date().isoformat())
    alerts.scan()
    assert [a for a in alerts.alerts() if a["rule"] == "not_seen"] == []
    alerts.post_record(f"/beneficiaries/{person}/entries/{second['id']}/void", {"reason": "did_not_happen"})
    assert last_seen(alerts, person, cm)["last_seen_at"].startswith(
        (alerts.now - timedelta(days=40)).date().isoformat())
    alerts.scan()  # 40 days since the contact that remains
    [alert] = [a for a in alerts.alerts() if a["rule"] == "not_seen"]
    assert alert["state"] == "open" and alert["period"] == f"seen:{first['id']}"


def test_a_resolved_alert_comes_back_when_the_contact_that_closed_it_is_voided(alerts, person, cm):
    alert_id = raised(alerts, person)
    met = alerts.contact(person, ago=timedelta(minutes=5))
    assert alerts.alerts(alert_id=alert_id)[0]["resolution"] == "seen_again"
    alerts.post_record(f"/beneficiaries/{person}/entries/{met['id']}/void", {"reason": "wrong_person"})
    alerts.scan()
    [again] = alerts.alerts(alert_id=alert_id)
    assert again["state"] == "open"  # the same alert, not a second one
    assert len(alerts.alerts()) == 1
    assert [a["alert_id"] for a in inbox(alerts, cm)] == [alert_id]


def test_a_corrected_contact_date_moves_the_clock(alerts, person, cm):
    contact = alerts.contact(person, ago=timedelta(hours=1))
    alerts.post_record(f"/beneficiaries/{person}/entries/{contact['id']}/corrections",
                       {"occurred_at": (alerts.now - timedelta(days=31)).isoformat()})
    alerts.scan()
    [alert] = [a for a in alerts.alerts() if a["rule"] == "not_seen"]
    assert alert["state"] == "open"
    # And the attempt corrected into a meeting counts as seen.
    attempt = alerts.contact(person, ago=timedelta(minutes=30), outcome="attempt")
    assert alerts.alerts(alert_id=alert["alert_id"])[0]["state"] == "open"
    alerts.post_record(f"/beneficiaries/{person}/entries/{attempt['id']}/corrections", {"outcome": "met"})
    assert alerts.alerts(alert_id=alert["alert_id"])[0]["resolution"] == "seen_again"


@pytest.mark.parametrize("alerts", ["now", "late_evening"], indirect=True)
def test_an_exit_protocol_activation_not_acknowledged_by_its_due_date(alerts, person, cm):
    alerts.contact(person, ago=timedelta(hours=2))
    # The due date is a day in the deployment's time zone, whatever the hour in UTC.
    # The due date is a day in the deployment's time zone, whatever the hour in UTC.
    due = (alerts.now.astimezone(alerts.ctx.settings.time_zone) + timedelta(days=3)).date()
    answer = alerts.post_record(f"/beneficiaries/{person}/transitions", {
        "transition_kind": "exit_hospital", "occurred_at": (alerts.now - timedelta(hours=1)).isoformat(),
        "fragility": STABLE,
        "activations": [{"service_kind": "general_practice", "due_date": due.isoformat()}]})
    [activation] = answer["activations"]
    activation_id = activation["data"]["activation_id"]
    alerts.advance(days=3)
    alerts.scan()
    assert [a for a in alerts.alerts() if a["rule"] == "activation_overdue"][0]["state"] == "warning"
    alerts.advance(days=1, hours=1)  # past the end of the due date, Brussels time
    alerts.scan()
    [alert] = [a for a in alerts.alerts() if a["rule"] == "activation_overdue"]
    assert alert["state"] == "open" and alert["subject_id"] == activation_id
    alerts.post_record(f"/beneficiaries/{person}/activations/{activation_id}/status", {"status": "contacted"})
    assert alerts.alerts(alert_id=alert["alert_id"])[0]["state"] == "open"  # contacted: still no answer
    alerts.post_record(f"/beneficiaries/{person}/activations/{activation_id}/status", {"status": "acknowledged"})
    [done] = alerts.alerts(alert_id=alert["alert_id"])
    assert done["state"] == "resolved" and done["resolution"] == "activation_answered"


def test_a_step_that_does_not_move_for_its_stall_interval(alerts, person, cm):
    step = alerts.post_record(f"/beneficiaries/{person}/steps", {
        "step_kind": "social_income", "status": "blocked", "blocker": "waiting_for_document",
        "occurred_at": (alerts.now - timedelta(hours=1)).isoformat()})
    alerts.advance(days=29)
    alerts.scan()
    assert [a for a in alerts.alerts() if a["rule"] == "step_stalled"] == []
    alerts.advance(days=1)
    alerts.scan()
    [alert] = [a for a in alerts.alerts() if a["rule"] == "step_stalled"]
    assert alert["state"] == "open" and alert["subject_id"] == step["thread_id"]
    alerts.post_record(f"/beneficiaries/{person}/steps/{step['thread_id']}/status", {"status": "in_progress"})
    assert alerts.alerts(alert_id=alert["alert_id"])[0]["resolution"] == "step_moved"
    alerts.advance(days=31)  # unchanged again for 30 days: a new period, a new alert
    alerts.scan()
    assert [a["state"] for a in alerts.alerts() if a["rule"] == "step_stalled"] == ["resolved", "open"]


def test_the_record_services_open_alert_count_follows_the_alert_events(alerts, person, cm):
    record_headers = alerts.record.as_("cm-1", org="org-cpas", profession="case_manager")

    def count():
        summary = alerts.record.client.get(f"/beneficiaries/{person}/summary", headers=record_headers)
        return summary.get_json()["open_alerts"]

    alert_id = raised(alerts, person)
    alerts.to_record()
    assert count() == 1
    for event in alerts.outbox_events():
        if event.type.startswith("alert."):
            alert_events.load(event.type, event.payload)  # the contract holds for every event
    alerts.client.post(f"/alerts/{alert_id}/acknowledge", json={"reason": "unreachable"}, headers=cm)
    alerts.to_record()
    assert count() == 1  # acknowledged still asks someone to act
    alerts.contact(person, ago=timedelta(minutes=1))
    alerts.to_record()
    assert count() == 0
    # The same events again change nothing (the record keys them by alert id).
    alerts.relayed.clear()
    alerts.to_record()
    assert count() == 0


def test_erasure_removes_everything_kept_about_the_person(alerts, person, cm):
    raised(alerts, person)
    me = alerts.record.consent.as_("bea", role="beneficiary", beneficiary=person, scopes="self")
    answer = alerts.record.consent.client.post("/me/erasure", headers=me)
    assert answer.status_code in (200, 202)
    alerts.sync()
    for table in (orm.alerts, orm.clocks, orm.journey_facts, orm.last_seen, orm.followers):
        assert alerts.count(table) == 0, table.name
