"""The alerts domain on its own: the fold of facts, the clocks, the rules' checks, the life of
an alert, and the shared envelope's batch encoding. No database, no broker."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.alerts.app import load_rules
from services.alerts.domain import alerts as life
from services.alerts.domain.clocks import clocks_of, not_seen_clock
from services.alerts.domain.journey import Fact, change_of, fold
from services.alerts.domain.rules import OverrideRejected
from shared.bus.envelope import Envelope, InvalidEnvelope, encode, encode_many
from shared.journey import events
from shared.vocabularies import load_vocabulary

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PERSON = "5b7f3c1e-0000-4000-8000-000000000001"
JOURNEY = load_vocabulary("journey")
ALERTS = load_vocabulary("alerts")
RULES = load_rules(JOURNEY, None)


def contact(entry_id: str, at: datetime, outcome: str = "met", recorded: datetime | None = None) -> Fact:
    return Fact(entry_id, PERSON, "contact", recorded or at, at, None, {"outcome": outcome})


def params(**person):
    return {rule: RULES.params(rule, None, person.get(rule)) for rule in RULES.defaults}


def test_last_seen_is_the_latest_meeting_whatever_the_order_of_arrival():
    facts = [contact("c2", T0 + timedelta(days=5), recorded=T0 + timedelta(days=6)),
             contact("c1", T0, recorded=T0 + timedelta(days=7)),
             contact("c3", T0 + timedelta(days=9), "attempt")]
    view = fold(PERSON, facts, JOURNEY)
    assert view.last_met.entry_id == "c2" and view.last_attempt.entry_id == "c3"


def test_a_void_that_arrives_before_its_entry_keeps_it_out():
    void = change_of(events.ENTRY_VOIDED, {
        "entry_id": "v1", "beneficiary_id": PERSON, "occurred_at": T0, "category": "contacts",
        "supersedes": None, "voided_entry_id": "c9", "voided_kind": "contact", "thread_id": None,
        "reason": "wrong_person"}, T0)
    assert void.replace == ("c9",) and void.add == ()
    late = Fact("c9", PERSON, "contact", T0, T0, None, {"outcome": "met"}, replaced=True)
    assert fold(PERSON, [late], JOURNEY).last_met is None


def test_voiding_a_threads_head_voids_the_thread():
    episode = Fact("e1", PERSON, "episode", T0, T0, "ep-1", {
        "type": "incarceration", "institution": True, "started_at": T0.isoformat(), "ended_at": None})
    void = Fact("v1", PERSON, "thread_void", T0, T0, "ep-1")
    assert fold(PERSON, [episode], JOURNEY).open_institution() is not None
    assert fold(PERSON, [episode, void], JOURNEY).open_institution() is None


def test_a_correction_of_a_step_head_leaves_its_later_status_standing():
    head = Fact("s1", PERSON, "step", T0, T0, "st-1", {"kind": "social_income", "status": "requested"})
    moved = Fact("s2", PERSON, "step_status", T0 + timedelta(days=1), T0 + timedelta(days=1), "st-1",
                 {"kind": "social_income", "status": "blocked"})
    corrected = Fact("s3", PERSON, "step", T0 + timedelta(days=2), T0 - timedelta(days=1), "st-1",
                     {"kind": "benefits", "status": "requested"})
    [step] = fold(PERSON, [head, moved, corrected], JOURNEY).steps
    assert step.status == "blocked" and step.kind == "benefits" and step.state_entry_id == "s2"


def test_a_person_of_whom_nothing_is_known_has_no_clock():
    assert not_seen_clock(fold(PERSON, [], JOURNEY), RULES.defaults["not_seen"]) is None


def test_the_period_and_the_alert_id_do_not_move_when_the_threshold_does():
    view = fold(PERSON, [contact("c1", T0)], JOURNEY)
    usual = not_seen_clock(view, RULES.defaults["not_seen"])
    shorter = not_seen_clock(view, RULES.params("not_seen", None, {"days": 10}))
    assert usual.alert_id == shorter.alert_id and usual.due_at - shorter.due_at == timedelta(days=20)
    again = not_seen_clock(fold(PERSON, [contact("c1", T0), contact("c2", T0 + timedelta(days=3))], JOURNEY),
                           RULES.defaults["not_seen"])
    assert again.alert_id != usual.alert_id
    assert str(T0.date()) not in usual.alert_id  # the id tells nothing of dates
    uuid.UUID(usual.alert_id)


def test_a_rule_turned_off_for_a_person_has_no_clock():
    view = fold(PERSON, [contact("c1", T0)], JOURNEY)
    assert ("not_seen", PERSON) not in clocks_of(view, params(not_seen={"enabled": False}), JOURNEY, UTC)


@pytest.mark.parametrize("level, override, field", [
    ("person", {"days": 0}, "days"),
    ("person", {"days": 400}, "days"),
    ("person", {"days": True}, "days"),
    ("person", {"enabled": "no"}, "enabled"),
    ("person", {"escalate_after_days": 2}, "escalate_after_days"),
    ("person", {"warning_days": 30}, "warning_days"),
    ("person", {"short_days": 40}, "short_days"),
    ("organisation", {"escalate_to": []}, "escalate_to"),
    ("organisation", {"escalate_to": ["boss"]}, "escalate_to"),
    ("organisation", {}, "(body)"),
])
def test_overrides_are_checked_naming_the_field(level, override, field):
    with pytest.raises(OverrideRejected) as caught:
        RULES.check("not_seen", level, override)
    assert field in {f for f, _ in caught.value.errors}


def test_a_persons_override_is_checked_with_their_organisations():
    with pytest.raises(OverrideRejected):
        RULES.check("not_seen", "person", {"warning_days": 12}, organisation={"days": 10})
    assert RULES.check("not_seen", "person", {"warning_days": 5}, organisation={"days": 10}) == {"warning_days": 5}


def row(**changes):
    base = dict(alert_id="a", beneficiary_id=PERSON, rule="not_seen", subject_id=PERSON, state="open",
                level=0, snoozes=0, organisation="org-1")
    return life.AlertRow(**{**base, **changes})


def test_escalation_passes_over_a_step_with_nobody_behind_it():
    params_ = RULES.params("not_seen", {"escalate_to": ["coordinator", "professional:duty-1"]})
    step = life.escalate(row(), params_, coordinator=None, now=T0)
    assert (step.target, step.recipient, step.level) == ("professional", "duty-1", 2)
    assert step.change.values["next_at"] is None  # nobody further
    last = life.escalate(row(level=2, state="escalated"), params_, coordinator="c-1", now=T0)
    assert last.change is None


def test_a_resolved_alert_cannot_be_handled_again():
    for action in (lambda: life.acknowledge(row(state="resolved"), ALERTS, reason="unreachable",
                                            last_seen_on=None, by="u", now=T0),
                   lambda: life.snooze(row(state="acknowledged"), RULES.defaults["not_seen"], days=2, now=T0),
                   lambda: life.resolve(row(state="resolved"), ALERTS, reason="moved_away", by="u", now=T0)):
        with pytest.raises(life.NotNow):
            action()


def test_waking_from_a_snooze_goes_back_to_where_the_alert_was():
    woke = life.wake(row(state="snoozed", level=1), RULES.defaults["not_seen"], now=T0)
    assert woke.values["state"] == "escalated"
    assert woke.values["next_at"] == T0 + timedelta(days=3)


def test_encoding_a_batch_gives_what_encoding_each_gives():
    envelopes = [Envelope(type="alert.opened", producer="alerts",
                          payload={"alert_id": str(uuid.uuid4()), "n": n, "at": T0.isoformat()})
                 for n in range(5)]
    assert [json.loads(b) for b in encode_many(envelopes)] == [json.loads(encode(e)) for e in envelopes]


def test_a_batch_still_refuses_personal_data_and_bad_ids():
    good = Envelope(type="alert.opened", producer="alerts", payload={"alert_id": "x"})
    with pytest.raises(InvalidEnvelope):
        encode_many([good, Envelope(type="alert.opened", producer="alerts", payload={"name": "Ann"})])
    with pytest.raises(InvalidEnvelope):
        encode_many([good, Envelope(type="alert.opened", producer="alerts", payload={"alert_id": "x"},
                                    id="not-a-uuid")])
    with pytest.raises(InvalidEnvelope):
        encode_many([good, Envelope(type="alert.opened", producer="alerts",
                                    payload={"alert_id": {"email": "a@b.c"}})])


def test_strict_withdrawal_waits_for_the_alerts_projection_by_default(tmp_path):
    from services.consent.settings import load_consent_settings

    assert load_consent_settings(tmp_path, {}).strict_projections == ("record", "alerts")


def test_alerts_settings_refuse_what_they_cannot_use(tmp_path):
    from services.alerts.settings import load_alerts_settings
    from shared.config import ConfigError

    defaults = load_alerts_settings(tmp_path, {})
    assert defaults.webhook_require_https and not defaults.webhook_allow_private
    assert defaults.scan_batch == 5000 and defaults.webhook_max_attempts == 6
    for bad in ({"ALERTS_TIME_ZONE": "Mars/Olympus"}, {"ALERTS_WEBHOOK_ALLOW_PRIVATE": "perhaps"},
                {"ALERTS_SCAN_BATCH": "0"}, {"ALERTS_WEBHOOK_RETRY_DELAYS_SECONDS": "5,-1"},
                {"ALERTS_SCAN_INTERVAL_SECONDS": "0"}):
        with pytest.raises(ConfigError):
            load_alerts_settings(tmp_path, bad)
