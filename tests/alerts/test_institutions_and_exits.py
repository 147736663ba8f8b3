"""The not-seen clock knows where the person is: it pauses while an institution stay is open,
restarts at the exit, runs short after a fragile exit until someone meets the person, and an
exit recorded by a service that may not write episodes still ends the stay for the clock."""

from __future__ import annotations

from datetime import timedelta

from tests.alerts.conftest import PRISON

FRAGILE = {"housing": "none", "close_ones": "none", "income": "pending", "health_follow_up": "no"}
STABLE = {"housing": "stable", "close_ones": "present", "income": "secured", "health_follow_up": "yes"}


def not_seen(alerts):
    return [a for a in alerts.alerts() if a["rule"] == "not_seen"]


def open_incarceration(alerts, person, *, ago=timedelta(hours=1)):
    alerts.record.grant(person, grantee_kind="organisation", grantee="org-cpas",
                        categories=["episodes"], actions=["read", "write"])
    alerts.sync()
    return alerts.post_record(f"/beneficiaries/{person}/episodes", {
        "episode_type": "incarceration", "started_at": (alerts.now - ago).isoformat()})


def exit_prison(alerts, person, fragility, *, by="cm-1", claims=None, ago=timedelta(hours=1)):
    return alerts.post_record(f"/beneficiaries/{person}/transitions", {
        "transition_kind": "exit_prison", "occurred_at": (alerts.now - ago).isoformat(),
        "fragility": fragility, "activations": []}, by=by, claims=claims)


def test_an_open_prison_episode_pauses_the_clock_and_the_exit_restarts_it(alerts, person):
    alerts.contact(person, ago=timedelta(hours=2))
    episode = open_incarceration(alerts, person)
    alerts.advance(days=90)
    assert alerts.scan().opened == 0
    assert not_seen(alerts) == []
    alerts.post_record(f"/beneficiaries/{person}/episodes/{episode['thread_id']}/end",
                       {"ended_at": (alerts.now - timedelta(hours=1)).isoformat()})
    alerts.advance(days=29)
    alerts.scan()
    assert [a["state"] for a in not_seen(alerts)] == ["warning"]  # 30 days from the exit, not the contact
    alerts.advance(days=1)
    alerts.scan()
    [alert] = not_seen(alerts)
    assert alert["state"] == "open" and alert["period"].startswith("exit:")


def test_a_stay_that_begins_resolves_an_open_alert(alerts, person):
    alerts.contact(person)
    alerts.advance(days=31)
    alerts.scan()
    open_incarceration(alerts, person, ago=timedelta(days=2))
    [alert] = not_seen(alerts)
    assert alert["state"] == "resolved" and alert["resolution"] == "institution_known"


def test_a_fragile_prison_exit_uses_the_short_clock_until_someone_meets_the_person(alerts, person):
    alerts.contact(person, ago=timedelta(days=3))
    exit_prison(alerts, person, FRAGILE)
    alerts.advance(days=3)
    alerts.scan()
    assert not_seen(alerts) == []
    alerts.advance(days=3)
    alerts.scan()
    assert [a["state"] for a in not_seen(alerts)] == ["warning"]  # half-way at the earliest
    alerts.advance(days=1)
    alerts.scan()
    [alert] = not_seen(alerts)
    assert alert["state"] == "open" and alert["period"].startswith("transition:")
    # Met once: back to the usual 30 days.
    alerts.contact(person, ago=timedelta(minutes=10))
    assert not_seen(alerts)[0]["resolution"] == "seen_again"
    alerts.advance(days=8)
    alerts.scan()
    assert [a["state"] for a in not_seen(alerts)] == ["resolved"]


def test_a_stable_prison_exit_keeps_the_usual_clock(alerts, person):
    alerts.contact(person, ago=timedelta(days=3))
    exit_prison(alerts, person, STABLE)
    alerts.advance(days=8)
    alerts.scan()
    assert not_seen(alerts) == []


def test_an_exit_recorded_by_the_prison_service_ends_the_stay_for_the_clock(alerts, person):
    open_incarceration(alerts, person, ago=timedelta(days=40))
    # The prison's psychosocial service may record the exit but not write episodes: the record
    # keeps the stay open, the vocabulary says an exit from prison closes an incarceration.
    alerts.record.grant(person, grantee_kind="organisation", grantee="org-prison",
                        categories=["transitions"], actions=["read", "write"])
    alerts.sync()
    exit_prison(alerts, person, STABLE, by="pp-1", claims=PRISON)
    alerts.advance(days=31)
    alerts.scan()
    [alert] = not_seen(alerts)
    assert alert["state"] == "open"
