"""Reading the journey: only what the reader may see, without a trace of the rest; pages that
follow each other; sensitive services masked; every read audited with what it showed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import HOUSING, PSYCHOLOGIST, STRANGER


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def post(record, path, body, headers, status=201):
    response = record.client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def get(record, path, headers, status=200):
    response = record.client.get(path, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.fixture
def shared_person(record, person, cm):
    """A person followed by org-cpas (defaults) and by a mental-health service (org-ssm), with
    contacts by both, a step, and a psychiatric stay only org-ssm may see."""
    record.grant(person, grantee_kind="organisation", grantee="org-ssm",
                 categories=["contacts", "mental_health_episodes", "episodes", "steps"],
                 actions=["read", "write"])
    psy = record.as_("psy-1", **PSYCHOLOGIST)
    post(record, f"/beneficiaries/{person}/contacts",
         {"occurred_at": ago(days=5), "modality": "phone", "outcome": "met"}, cm)
    post(record, f"/beneficiaries/{person}/steps", {"step_kind": "social_income"}, cm)
    post(record, f"/beneficiaries/{person}/episodes",
         {"episode_type": "psychiatric_stay", "started_at": ago(days=4)}, psy)
    post(record, f"/beneficiaries/{person}/contacts",
         {"occurred_at": ago(days=2), "modality": "in_person", "outcome": "met"}, psy)
    post(record, f"/beneficiaries/{person}/contacts",
         {"occurred_at": ago(days=1), "modality": "phone", "outcome": "attempt"}, cm)
    return person


def test_hidden_categories_leave_no_trace(record, shared_person, cm):
    seen = get(record, f"/beneficiaries/{shared_person}/timeline", cm)
    assert {i["category"] for i in seen["items"]} == {"contacts", "steps"}
    assert "mental_health_episodes" not in seen["categories"]
    assert len(seen["items"]) == 4 and seen["next_cursor"] is None
    psy = record.as_("psy-1", **PSYCHOLOGIST)
    assert len(get(record, f"/beneficiaries/{shared_person}/timeline", psy)["items"]) == 5


def test_a_mental_health_professionals_contact_is_masked_for_others(record, shared_person, cm):
    seen = get(record, f"/beneficiaries/{shared_person}/timeline", cm)
    by_psy = [i for i in seen["items"] if i["author"]["masked"]]
    assert len(by_psy) == 1 and by_psy[0]["author"]["organisation"] is None
    # The last met was with the psychologist: the date shows, the service does not.
    assert seen["last_seen"]["masked"] is True and seen["last_seen"]["organisation"] is None
    assert seen["last_seen"]["at"] is not None and seen["last_seen"]["last_attempt_at"] is not None
    psy = record.as_("psy-1", **PSYCHOLOGIST)
    own_view = get(record, f"/beneficiaries/{shared_person}/timeline", psy)
    assert own_view["last_seen"]["organisation"] == "org-ssm"


def test_pages_follow_each_other_and_filters_apply(record, person, cm):
    for days in range(1, 8):
        post(record, f"/beneficiaries/{person}/contacts",
             {"occurred_at": ago(days=days), "modality": "phone", "outcome": "met"}, cm)
    first = get(record, f"/beneficiaries/{person}/timeline?limit=3", cm)
    second = get(record, f"/beneficiaries/{person}/timeline?limit=3&cursor={first['next_cursor']}", cm)
    third = get(record, f"/beneficiaries/{person}/timeline?limit=3&cursor={second['next_cursor']}", cm)
    ids = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert len(ids) == len(set(ids)) == 7 and third["next_cursor"] is None
    times = [i["occurred_at"] for page in (first, second, third) for i in page["items"]]
    assert times == sorted(times, reverse=True)
    since = ago(days=3, hours=12)
    recent = record.client.get(f"/beneficiaries/{person}/timeline", query_string={"since": since},
                               headers=cm).get_json()
    assert len(recent["items"]) == 3
    steps_only = get(record, f"/beneficiaries/{person}/timeline?category=steps", cm)
    assert steps_only["items"] == []


@pytest.mark.parametrize("query, field", [
    ("?cursor=not-a-cursor", "cursor"),
    ("?limit=0", "limit"),
    ("?limit=10000", "limit"),
    ("?category=dreams", "category.0"),
    ("?kind=opinion", "kind.0"),
    ("?since=yesterday", "since"),
    ("?purpose=curiosity", "purpose"),
    ("?order=random", "order"),
    ("?colour=red", "colour"),
])
def test_bad_queries_are_422(record, person, cm, query, field):
    response = record.client.get(f"/beneficiaries/{person}/timeline{query}", headers=cm)
    assert response.status_code == 422, response.get_json()
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_no_grant_no_person_same_answer_and_both_audited(record, shared_person):
    stranger = record.as_("sw-9", **STRANGER)
    a = record.client.get(f"/beneficiaries/{shared_person}/timeline", headers=stranger)
    b = record.client.get(f"/beneficiaries/{uuid.uuid4()}/timeline", headers=stranger)
    assert a.status_code == b.status_code == 404
    assert a.get_json()["detail"] == b.get_json()["detail"]
    denied = [x for x in record.audits() if x["outcome"] == "deny" and x["action"] == "timeline.read"]
    assert len(denied) == 2


def test_every_read_is_audited_with_the_entries_it_showed(record, shared_person, cm):
    seen = get(record, f"/beneficiaries/{shared_person}/timeline", cm)
    [audit] = [a for a in record.audits() if a["action"] == "timeline.read"]
    assert audit["entry_ids"] == [i["id"] for i in seen["items"]]
    assert audit["categories"] == ["contacts", "steps"] and audit["consent"]["grant_id"]


def test_a_revocation_hides_the_person_at_once(record, person, cm):
    housing = record.as_("hw-1", **HOUSING)
    given = record.grant(person, grantee_kind="organisation", grantee="org-housing",
                         categories=["steps"])
    get(record, f"/beneficiaries/{person}/timeline", housing)
    record.consent_post(f"/beneficiaries/{person}/grants/{given['grant_id']}/revoke")
    get(record, f"/beneficiaries/{person}/timeline", housing, status=404)


def test_an_exclusion_overrides_the_organisations_grant(record, person, cm):
    record.consent_post(f"/beneficiaries/{person}/exclusions", {"kind": "professional", "target": "cm-2"})
    colleague = record.as_("cm-2", org="org-cpas", profession="case_manager")
    get(record, f"/beneficiaries/{person}/timeline", colleague, status=404)
    get(record, f"/beneficiaries/{person}/timeline", cm)


def test_the_summary_at_a_glance(record, person, cm):
    step = post(record, f"/beneficiaries/{person}/steps",
                {"step_kind": "housing_application", "due_date": "2020-01-01"}, cm)
    post(record, f"/beneficiaries/{person}/steps/{step['data']['step_id']}/status",
         {"status": "blocked", "blocker": "waiting_list"}, cm)
    post(record, f"/beneficiaries/{person}/steps", {"step_kind": "reference_address"}, cm)
    post(record, f"/beneficiaries/{person}/referent",
         {"subject": "cm-1", "organisation": "org-cpas", "profession": "case_manager"}, cm)
    post(record, f"/beneficiaries/{person}/care-team",
         {"subject": "nurse-3", "organisation": "mm-marolles", "profession": "nurse", "change": "added"}, cm)
    post(record, f"/beneficiaries/{person}/care-team",
         {"subject": "sw-4", "organisation": "org-cpas", "profession": "social_worker", "change": "added"}, cm)
    post(record, f"/beneficiaries/{person}/care-team", {"subject": "sw-4", "change": "removed"}, cm)
    twice = record.client.post(f"/beneficiaries/{person}/referent", headers=cm,
                               json={"subject": "cm-1", "organisation": "org-cpas"})
    assert twice.status_code == 422
    summary = get(record, f"/beneficiaries/{person}/summary", {**cm, "Accept-Language": "en"})
    assert summary["open_steps_by_status"] == {"blocked": 1, "requested": 1}
    blocked = next(s for s in summary["open_steps"] if s["status"] == "blocked")
    assert blocked["overdue"] is True and blocked["labels"]["status"] == "Blocked"
    assert summary["referent"]["subject"] == "cm-1"
    assert [m["subject"] for m in summary["care_team"]] == ["nurse-3"]
    assert summary["open_alerts"] == 0 and summary["last_seen"]["at"] is None


def test_the_caseload_lists_only_who_i_may_see_longest_unseen_first(record, cm):
    people = [record.register("cm-1") for _ in range(3)]
    hidden = record.register("cm-9", org="org-other", profession="case_manager")
    post(record, f"/beneficiaries/{people[0]}/contacts",
         {"occurred_at": ago(days=40), "modality": "phone", "outcome": "met"}, cm)
    post(record, f"/beneficiaries/{people[1]}/contacts",
         {"occurred_at": ago(days=2), "modality": "phone", "outcome": "met"}, cm)
    record.consent_post(f"/beneficiaries/{people[2]}/exclusions", {"kind": "organisation", "target": "org-cpas"})
    caseload = get(record, "/caseload", cm)
    assert [i["beneficiary_id"] for i in caseload["items"]] == [people[0], people[1]]
    assert hidden not in {i["beneficiary_id"] for i in caseload["items"]}
    assert caseload["total"] == 2
    audited = {a["beneficiary_id"] for a in record.audits() if a["action"] == "caseload.read"}
    assert audited == {people[0], people[1]}
    page = get(record, "/caseload?limit=1", cm)
    assert len(page["items"]) == 1 and page["next_offset"] == 1


def test_the_person_reads_their_own_journey_all_of_it(record, shared_person):
    me = record.as_("bea", role="beneficiary", beneficiary=shared_person, scopes="self")
    own = get(record, "/me/timeline", me)
    assert {i["category"] for i in own["items"]} == {"contacts", "steps", "mental_health_episodes"}
    assert not any(i["author"]["masked"] for i in own["items"])
    get(record, "/me/summary", me)
    assert {a["action"] for a in record.audits()} >= {"timeline.read_own", "summary.read_own"}
    someone = record.as_("bob", role="beneficiary", beneficiary=str(uuid.uuid4()), scopes="self")
    assert get(record, "/me/timeline", someone)["items"] == []
    professional = record.as_("cm-1", org="org-cpas", profession="case_manager", scopes="self")
    get(record, "/me/timeline", professional, status=404)


def test_vocabularies_in_three_languages(record):
    for language, label in (("fr", "Travail de rue"), ("nl", "Straathoekwerk"), ("en", "Street outreach")):
        document = get(record, "/vocabularies", {"Accept-Language": language})
        modality = {i["code"]: i["label"] for i in document["lists"]["contact_modality"]}
        assert modality["street_outreach"] == label
        assert document["language"] == language
    document = get(record, "/vocabularies", {})
    assert document["version"] and document["protocol_templates"]["templates"]
    assert {"step_kind", "episode_type", "transition_kind", "profession"} <= set(document["lists"])


def test_vocabularies_publish_the_life_cycles_the_service_enforces(record, person, cm):
    """Pages offer only the moves the service accepts: what the vocabulary says is allowed is."""
    cycles = get(record, "/vocabularies", {})["lifecycles"]
    steps, activations = cycles["step_status"], cycles["activation_status"]
    assert set(steps["initial"]) < set(steps["next"])
    assert steps["next"]["done"] == [] and "done" in steps["next"]["in_progress"]
    assert "done" not in steps["next"]["requested"]
    assert activations["next"]["to_activate"] == ["acknowledged", "contacted", "declined"]
    assert steps["requires"] == {"blocked": {"field": "blocker", "list": "step_blocker"}}
    assert activations["requires"]["declined"]["field"] == "reason"
    step = record.client.post(f"/beneficiaries/{person}/steps",
                              json={"step_kind": "housing_application", "status": steps["initial"][0]},
                              headers=cm)
    assert step.status_code == 201, step.get_json()
    refused = record.client.post(f"/beneficiaries/{person}/steps/{step.get_json()['thread_id']}/status",
                                 json={"status": "done"}, headers=cm)
    assert refused.status_code == 422  # not among the published next statuses of "requested"
    without = record.client.post(f"/beneficiaries/{person}/steps/{step.get_json()['thread_id']}/status",
                                 json={"status": "blocked"}, headers=cm)
    assert [e["field"] for e in without.get_json()["errors"]] == ["blocker"]  # the field it requires


def test_read_answers_say_exactly_what_their_documented_schema_says(record, shared_person, cm):
    """The read endpoints serialise in one pass; the OpenAPI schema must describe them exactly."""
    import json

    from services.record.api import schemas
    from services.record.api.common import json_answer
    from services.record.handlers import reading
    from shared.auth import Principal

    ctx = record.app.extensions["relais.record"]
    principal = Principal("cm-1", "test", frozenset({"record:read"}), "t-1", "professional",
                          "org-cpas", "case_manager")
    with record.app.test_request_context():
        answers = [
            (schemas.TimelineOut(), reading.read_timeline(
                ctx, principal, reading.TimelineQuery(shared_person, history=True), None)),
            (schemas.SummaryOut(), reading.read_summary(
                ctx, principal, shared_person, purpose="care_coordination", language="fr", request_id=None)),
            (schemas.CaseloadOut(), reading.read_caseload(ctx, principal, reading.CaseloadQuery(), None)),
        ]
        for schema, document in answers:
            assert json.loads(json_answer(document).get_data()) == json.loads(json.dumps(schema.dump(document)))


def test_a_care_team_grant_lets_its_members_read_and_no_one_else(record, person, cm):
    """The reader's teams come with the person's consent in the read's first statement: a
    member of two teams, one of them granted, reads; a member of neither gets the 404 of a
    person who does not exist."""
    granted, other = str(uuid.uuid4()), str(uuid.uuid4())
    for team in (other, granted):
        added = record.consent.client.post(f"/care-teams/{team}/members", json={"subject": "hw-7"},
                                           headers=record.consent.as_("hw-7", **HOUSING))
        assert added.status_code == 204
    record.sync()
    record.grant(person, grantee_kind="care_team", grantee=granted, categories=["contacts"])
    post(record, f"/beneficiaries/{person}/contacts",
         {"occurred_at": ago(days=1), "modality": "phone", "outcome": "met"}, cm)
    member = record.as_("hw-7", **HOUSING)
    seen = get(record, f"/beneficiaries/{person}/timeline", member)
    assert [i["kind"] for i in seen["items"]] == ["contact"] and seen["categories"] == ["contacts"]
    outsider = record.as_("hw-8", **HOUSING)
    assert record.client.get(f"/beneficiaries/{person}/timeline", headers=outsider).status_code == 404
    assert record.audits()[-1]["actor"]["subject"] == "hw-8"
    assert record.audits()[-1]["outcome"] == "deny"
