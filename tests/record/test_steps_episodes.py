"""Steps and their life cycle, episodes and their end: each change an entry of its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.journey import events as journey_events

from .conftest import PSYCHOLOGIST


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def post(record, path, body, headers, status=201):
    response = record.client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_a_step_moves_along_its_life_cycle_and_the_history_shows_who_moved_it(record, person, cm):
    step = post(record, f"/beneficiaries/{person}/steps",
                {"step_kind": "housing_application", "organisation": "org-housing",
                 "due_date": (date.today() + timedelta(days=30)).isoformat()}, cm)
    step_id = step["data"]["step_id"]
    assert step["data"]["status"] == "requested" and step["thread_id"] == step_id
    other = record.as_("sw-2", org="org-cpas", profession="social_worker")
    moved = post(record, f"/beneficiaries/{person}/steps/{step_id}/status", {"status": "in_progress"}, other)
    blocked = post(record, f"/beneficiaries/{person}/steps/{step_id}/status",
                   {"status": "blocked", "blocker": "waiting_list"}, cm)
    assert moved["data"]["previous_status"] == "requested"
    assert blocked["labels"]["blocker"] == "Liste d'attente"

    timeline = record.client.get(f"/beneficiaries/{person}/timeline?kind=step&kind=step_status&order=asc",
                                 headers=cm).get_json()
    assert [(i["kind"], i["data"]["status"]) for i in timeline["items"]] == [
        ("step", "requested"), ("step_status", "in_progress"), ("step_status", "blocked")]
    assert timeline["items"][1]["author"]["profession"] == "social_worker"
    changed = record.outbox_events(journey_events.STEP_CHANGED)
    assert [e.payload["status"] for e in changed] == ["in_progress", "blocked"]
    for event in record.outbox_events():
        if journey_events.is_journey_event(event.type):
            journey_events.load(event.type, event.payload)


@pytest.mark.parametrize("path_status, body, field", [
    ("done", {"status": "in_progress"}, "status"),           # done is final
    ("requested", {"status": "done"}, "status"),              # not without being in progress
    ("requested", {"status": "blocked"}, "blocker"),          # a blocker is required
    ("requested", {"status": "in_progress", "blocker": "cost"}, "blocker"),
    ("requested", {"status": "finished"}, "status"),
    ("requested", {"status": "in_progress", "occurred_at": "2020-01-01T00:00:00+00:00"}, "occurred_at"),
])
def test_a_change_the_life_cycle_does_not_allow_is_422(record, person, cm, path_status, body, field):
    step = post(record, f"/beneficiaries/{person}/steps", {"step_kind": "social_income"}, cm)
    step_id = step["data"]["step_id"]
    if path_status == "done":
        post(record, f"/beneficiaries/{person}/steps/{step_id}/status", {"status": "in_progress"}, cm)
        post(record, f"/beneficiaries/{person}/steps/{step_id}/status", {"status": "done"}, cm)
    response = record.client.post(f"/beneficiaries/{person}/steps/{step_id}/status", json=body, headers=cm)
    assert response.status_code == 422, response.get_json()
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_an_unknown_step_is_404_like_an_unknown_person(record, person, cm):
    import uuid

    response = record.client.post(f"/beneficiaries/{person}/steps/{uuid.uuid4()}/status",
                                  json={"status": "in_progress"}, headers=cm)
    assert response.status_code == 404


def test_a_mental_health_follow_up_is_protected(record, person, cm):
    # org-cpas has no grant on mental-health episodes: it cannot record such a step.
    response = record.client.post(f"/beneficiaries/{person}/steps",
                                  json={"step_kind": "mental_health_follow_up"}, headers=cm)
    assert response.status_code == 403
    record.grant(person, grantee_kind="organisation", grantee="org-ssm",
                 categories=["mental_health_episodes", "steps"], actions=["read", "write"])
    psy = record.as_("psy-1", **PSYCHOLOGIST)
    step = post(record, f"/beneficiaries/{person}/steps", {"step_kind": "mental_health_follow_up"}, psy)
    assert step["category"] == "mental_health_episodes"
    seen_by_cm = record.client.get(f"/beneficiaries/{person}/timeline", headers=cm).get_json()
    assert step["id"] not in {i["id"] for i in seen_by_cm["items"]}


def test_episodes_open_and_end_and_the_end_is_checked(record, person):
    record.grant(person, grantee_kind="organisation", grantee="org-cpas",
                 categories=["episodes"], actions=["read", "write"])
    cm = record.as_("cm-1", org="org-cpas", profession="case_manager")
    episode = post(record, f"/beneficiaries/{person}/episodes",
                   {"episode_type": "incarceration", "started_at": ago(days=90)}, cm)
    episode_id = episode["data"]["episode_id"]
    [opened] = record.outbox_events(journey_events.EPISODE_OPENED)
    assert opened.payload["institution"] is True
    too_early = record.client.post(f"/beneficiaries/{person}/episodes/{episode_id}/end",
                                   json={"ended_at": ago(days=100)}, headers=cm)
    assert too_early.status_code == 422
    assert too_early.get_json()["errors"][0]["field"] == "ended_at"
    post(record, f"/beneficiaries/{person}/episodes/{episode_id}/end", {"ended_at": ago(days=1)}, cm)
    again = record.client.post(f"/beneficiaries/{person}/episodes/{episode_id}/end",
                               json={"ended_at": ago(hours=1)}, headers=cm)
    assert again.status_code == 422
    bad = record.client.post(f"/beneficiaries/{person}/episodes", headers=cm,
                             json={"episode_type": "hospital_stay", "started_at": ago(days=1),
                                   "ended_at": ago(days=3)})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "ended_at"


def test_a_psychiatric_stay_is_a_mental_health_episode(record, person):
    record.grant(person, grantee_kind="organisation", grantee="org-ssm",
                 categories=["mental_health_episodes", "episodes"], actions=["read", "write"])
    psy = record.as_("psy-1", **PSYCHOLOGIST)
    episode = post(record, f"/beneficiaries/{person}/episodes",
                   {"episode_type": "psychiatric_stay", "started_at": ago(days=3)}, psy)
    assert episode["category"] == "mental_health_episodes"
