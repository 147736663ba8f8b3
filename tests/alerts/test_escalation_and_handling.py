"""An alert nobody acknowledges escalates — to the care team, then the organisation's
coordinator; acknowledging stops that; snoozes are limited; resolving by hand needs a reason a
person may give (the automatic ones are the service's)."""

from __future__ import annotations

from datetime import timedelta

from shared.alerting import events as alert_events
from tests.alerts.conftest import SOCIAL_WORKER, inbox, raised
from tests.support.record_app import CASE_MANAGER


def admin(alerts):
    return alerts.as_("admin-1", role="admin", scopes="admin")


def with_care_team(alerts, person):
    """sw-2 of another organisation in the care team, with a grant of their own."""
    alerts.record.grant(person, grantee_kind="professional", grantee="sw-2",
                        categories=["alerts", "contacts"])
    alerts.post_record(f"/beneficiaries/{person}/care-team",
                       {"subject": "sw-2", "change": "added", "organisation": "org-ssm",
                        "profession": "social_worker"})
    return alerts.as_("sw-2", **SOCIAL_WORKER)


def test_an_unacknowledged_alert_escalates_to_the_care_team_then_the_coordinator(alerts, person, cm):
    sw = with_care_team(alerts, person)
    response = alerts.client.put("/organisations/org-cpas/coordinator", json={"coordinator": "coord-1"},
                                 headers=admin(alerts))
    assert response.status_code == 200, response.get_json()
    alert_id = raised(alerts, person)
    coordinator = alerts.as_("coord-1", **CASE_MANAGER)
    assert [a["alert_id"] for a in inbox(alerts, cm)] == [alert_id]
    assert inbox(alerts, sw) == []  # the référent first
    assert inbox(alerts, coordinator) == []
    alerts.advance(days=3)
    assert alerts.scan().escalated == 1
    [item] = inbox(alerts, sw)
    assert item["state"] == "escalated" and item["reaches_care_team"] is True
    assert inbox(alerts, coordinator) == []
    alerts.advance(days=3)
    assert alerts.scan().escalated == 1
    [item] = inbox(alerts, coordinator)
    assert item["escalated_to"] == ["coord-1"] and item["escalation_level"] == 2
    alerts.advance(days=10)
    assert alerts.scan().escalated == 0  # nobody further to reach
    assert [e.payload["level"] for e in alerts.outbox_events(alert_events.ALERT_ESCALATED)] == [1, 2]


def test_acknowledging_stops_the_escalation(alerts, person, cm):
    alert_id = raised(alerts, person)
    response = alerts.client.post(f"/alerts/{alert_id}/acknowledge", headers=cm,
                                  json={"reason": "in_institution", "last_seen_on": str(alerts.now.date())})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "acknowledged"
    assert body["acknowledged"]["reason"] == "in_institution" and body["acknowledged"]["by"] == "cm-1"
    alerts.advance(days=30)
    assert alerts.scan().escalated == 0
    [event] = alerts.outbox_events(alert_events.ALERT_ACKNOWLEDGED)
    assert event.payload["reason"] == "in_institution"
    [audit] = [a for a in alerts.audits() if a["action"] == "alert.acknowledge"]
    assert audit["beneficiary_id"] == person and audit["outcome"] == "permit"
    assert audit["consent"]["grant_id"]


def test_snoozes_are_limited_and_wake_up(alerts, person, cm):
    alert_id = raised(alerts, person)
    too_long = alerts.client.post(f"/alerts/{alert_id}/snooze", json={"days": 15}, headers=cm)
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["field"] == "days"
    for _ in range(2):
        snoozed = alerts.client.post(f"/alerts/{alert_id}/snooze", json={"days": 2}, headers=cm)
        assert snoozed.status_code == 200 and snoozed.get_json()["state"] == "snoozed"
        alerts.advance(days=2)
        assert alerts.scan().woke == 1
    third = alerts.client.post(f"/alerts/{alert_id}/snooze", json={"days": 2}, headers=cm)
    assert third.status_code == 409
    assert third.get_json()["type"] == "urn:relais:problem:conflict"
    assert [a["state"] for a in alerts.alerts(alert_id=alert_id)] == ["open"]


def test_resolving_by_hand_needs_a_reason_a_person_gives(alerts, person, cm):
    alert_id = raised(alerts, person)
    automatic = alerts.client.post(f"/alerts/{alert_id}/resolve", json={"reason": "seen_again"}, headers=cm)
    assert automatic.status_code == 422 and automatic.get_json()["errors"][0]["field"] == "reason"
    done = alerts.client.post(f"/alerts/{alert_id}/resolve", json={"reason": "followed_elsewhere"}, headers=cm)
    assert done.status_code == 200
    assert done.get_json()["resolved"]["reason"] == "followed_elsewhere"
    assert done.get_json()["resolved"]["automatic"] is False
    again = alerts.client.post(f"/alerts/{alert_id}/resolve", json={"reason": "followed_elsewhere"}, headers=cm)
    assert again.status_code == 409
    # Resolved by hand for this period: later scans do not raise it again.
    alerts.advance(days=60)
    assert alerts.scan().opened == 0
    assert inbox(alerts, cm) == []


def test_bad_input_is_422_naming_the_field(alerts, person, cm):
    alert_id = raised(alerts, person)
    cases = [
        ("acknowledge", {"reason": "lazy"}, "reason"),
        ("acknowledge", {"reason": "unreachable", "last_seen_on": str((alerts.now + timedelta(days=2)).date())},
         "last_seen_on"),
        ("acknowledge", {"reason": "unreachable", "note": "he said"}, "note"),
        ("snooze", {"days": "3"}, "days"),
        ("resolve", {}, "reason"),
    ]
    for action, body, field in cases:
        response = alerts.client.post(f"/alerts/{alert_id}/{action}", json=body, headers=cm)
        assert response.status_code == 422, (action, body, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert field in {e["field"] for e in response.get_json()["errors"]}, (action, body)
    bad_query = alerts.client.get("/alerts", query_string={"state": "resolved"}, headers=cm)
    assert bad_query.status_code == 422 and bad_query.get_json()["errors"][0]["field"].startswith("state")
    bad_cursor = alerts.client.get("/alerts", query_string={"cursor": "nope"}, headers=cm)
    assert bad_cursor.status_code == 422 and bad_cursor.get_json()["errors"][0]["field"] == "cursor"


def test_the_scope_is_checked_before_anything(alerts, person):
    alert_id = raised(alerts, person)
    reader = alerts.as_("cm-1", scopes="alerts:read", **CASE_MANAGER)
    response = alerts.client.post(f"/alerts/{alert_id}/acknowledge", json={"reason": "unreachable"},
                                  headers=reader)
    assert response.status_code == 403
    assert response.get_json()["type"] == "urn:relais:problem:insufficient-scope"


def test_without_a_referent_the_care_team_is_asked_at_once(alerts):
    person = alerts.register("cm-1", **CASE_MANAGER)  # nobody named référent in the journey
    sw = with_care_team(alerts, person)
    alert_id = raised(alerts, person)
    assert [a["alert_id"] for a in inbox(alerts, sw)] == [alert_id]
    # The organisation's own system sees the alerts routed to its organisation.
    system = alerts.as_("sys-cpas", role="system", org="org-cpas", profession="case_manager")
    assert [a["alert_id"] for a in inbox(alerts, system)] == [alert_id]
    assert inbox(alerts, alerts.as_("sys-x", role="system", org="org-other", profession="case_manager")) == []
