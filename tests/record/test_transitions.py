"""Transitions and their exit protocol: proposed from the template by fragility, edited by the
référent, ticked off; an exit from prison ends the open incarceration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shared.journey import events as journey_events

FRAGILE = {"housing": "none", "close_ones": "none", "income": "pending", "health_follow_up": "no"}
STABLE = {"housing": "stable", "close_ones": "present", "income": "secured", "health_follow_up": "yes"}


def ago(**delta) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def post(record, path, body, headers, status=201):
    response = record.client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_a_fragile_prison_exit_proposes_its_protocol_from_the_template(record, person, cm):
    at = ago(hours=5)
    answer = post(record, f"/beneficiaries/{person}/transitions",
                  {"transition_kind": "exit_prison", "occurred_at": at.isoformat(), "fragility": FRAGILE}, cm)
    transition = answer["transition"]
    assert transition["data"]["fragile"] is True
    assert transition["data"]["protocol_version"]
    proposed = {a["data"]["service_kind"]: a["data"]["due_date"] for a in answer["activations"]}
    assert set(proposed) == {"cpas_social_service", "justice_welfare_service", "housing_service",
                             "shelter", "general_practice", "outreach_team"}
    assert proposed["shelter"] == (at.date() + timedelta(days=1)).isoformat()
    assert all(a["data"]["status"] == "to_activate" for a in answer["activations"])
    [event] = record.outbox_events(journey_events.TRANSITION_RECORDED)
    loaded = journey_events.load(event.type, event.payload)
    assert loaded["fragility"]["fragile"] is True and len(loaded["activations"]) == 6


def test_a_stable_exit_proposes_less_and_an_explicit_list_wins(record, person, cm):
    stable = post(record, f"/beneficiaries/{person}/transitions",
                  {"transition_kind": "exit_prison", "occurred_at": ago(days=2).isoformat(),
                   "fragility": STABLE}, cm)
    assert {a["data"]["service_kind"] for a in stable["activations"]} == {
        "cpas_social_service", "justice_welfare_service"}
    chosen = post(record, f"/beneficiaries/{person}/transitions",
                  {"transition_kind": "exit_hospital", "occurred_at": ago(days=1).isoformat(),
                   "fragility": STABLE,
                   "activations": [{"service_kind": "general_practice", "organisation": "mm-marolles"}]}, cm)
    [only] = chosen["activations"]
    assert only["data"]["organisation"] == "mm-marolles"
    assert chosen["transition"]["data"]["protocol_version"] is None


def test_the_checklist_is_worked_through_and_the_summary_shows_progress(record, person, cm):
    answer = post(record, f"/beneficiaries/{person}/transitions",
                  {"transition_kind": "exit_prison", "occurred_at": ago(days=10).isoformat(),
                   "fragility": STABLE}, cm)
    first, second = answer["activations"]
    a1, a2 = first["data"]["activation_id"], second["data"]["activation_id"]
    post(record, f"/beneficiaries/{person}/activations/{a1}/status",
         {"status": "contacted", "organisation": "cpas-ixelles"}, cm)
    post(record, f"/beneficiaries/{person}/activations/{a1}/status", {"status": "acknowledged"}, cm)
    refused = record.client.post(f"/beneficiaries/{person}/activations/{a2}/status",
                                 json={"status": "declined"}, headers=cm)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "reason"
    post(record, f"/beneficiaries/{person}/activations/{a2}/status",
         {"status": "declined", "reason": "no_capacity"}, cm)
    again = record.client.post(f"/beneficiaries/{person}/activations/{a1}/status",
                               json={"status": "contacted"}, headers=cm)
    assert again.status_code == 422
    added = post(record, f"/beneficiaries/{person}/transitions/{answer['transition']['thread_id']}/activations",
                 {"service_kind": "day_centre", "due_date": (date.today() - timedelta(days=1)).isoformat()}, cm)
    summary = record.client.get(f"/beneficiaries/{person}/summary", headers=cm).get_json()
    progress = summary["last_transition"]["protocol"]
    assert progress == {"total": 3, "to_activate": 1, "contacted": 0, "acknowledged": 1,
                        "declined": 1, "overdue": 1}
    overdue = [a for a in summary["last_transition"]["activations"] if a["overdue"]]
    assert [a["activation_id"] for a in overdue] == [added["data"]["activation_id"]]
    changes = record.outbox_events(journey_events.ACTIVATION_CHANGED)
    assert [c.payload["status"] for c in changes] == ["contacted", "acknowledged", "declined", "to_activate"]


def test_an_exit_from_prison_ends_the_open_incarceration(record, person):
    record.grant(person, grantee_kind="organisation", grantee="org-cpas",
                 categories=["episodes"], actions=["read", "write"])
    cm = record.as_("cm-1", org="org-cpas", profession="case_manager")
    episode = post(record, f"/beneficiaries/{person}/episodes",
                   {"episode_type": "incarceration", "started_at": ago(days=200).isoformat()}, cm)
    post(record, f"/beneficiaries/{person}/transitions",
         {"transition_kind": "exit_prison", "occurred_at": ago(days=1).isoformat(), "fragility": FRAGILE}, cm)
    [closed] = record.outbox_events(journey_events.EPISODE_CLOSED)
    assert closed.payload["episode_id"] == episode["data"]["episode_id"]
    [recorded] = record.outbox_events(journey_events.TRANSITION_RECORDED)
    assert recorded.payload["closed_episode_id"] == episode["data"]["episode_id"]
    summary = record.client.get(f"/beneficiaries/{person}/summary", headers=cm).get_json()
    assert summary["active_episodes"] == []


def test_bad_transitions_are_422_naming_each_field(record, person, cm):
    response = record.client.post(f"/beneficiaries/{person}/transitions", headers=cm, json={
        "transition_kind": "exit_moon", "occurred_at": ago(days=1).isoformat(),
        "fragility": {"housing": "castle", "close_ones": "none", "income": "none"},
        "activations": [{"service_kind": "wizard"}]})
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"transition_kind", "fragility.housing", "fragility.health_follow_up",
            "activations.0.service_kind"} <= fields
    early = record.client.post(f"/beneficiaries/{person}/transitions", headers=cm, json={
        "transition_kind": "eviction", "occurred_at": ago(days=1).isoformat(), "fragility": STABLE,
        "activations": [{"service_kind": "shelter", "due_date": "2020-01-01"}]})
    assert early.status_code == 422
    assert early.get_json()["errors"][0]["field"] == "activations.0.due_date"
