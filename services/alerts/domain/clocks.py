"""The clocks of one person: for each rule and each thing it watches, when it warns, when it
raises an alert, and which period of absence or delay that alert is about.

- ``not_seen``: from the last time the person was met anywhere (an attempt does not count),
  or their exit from an institution, or — after a fragile exit (prison, hospital…) with no
  contact since — that exit, on the short clock. Paused while an institution stay is open. A
  person of whom nothing is known yet has no clock. The warning comes ``warning_days`` before
  the alert, but never before half the clock has run.
- ``activation_overdue``: a service of an exit protocol still to activate (or contacted, with no
  answer) once its due date has passed, in the deployment's time zone.
- ``step_stalled``: a step still open and unchanged (blocked included) for longer than its
  kind's stall interval.

A clock's ``period`` names what the alert is about (the last-seen entry, the due date, the
step's state entry), so the alert's identity is stable: re-computing a clock for the same period
can never raise a second alert, and a new period is a new alert. When a period ends (the person
was seen, the service answered, the step moved) the alert of the old one is resolved, with the
reason given here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from services.alerts.domain.journey import JourneyView, Transition
from services.alerts.domain.rules import Params
from shared.vocabularies import Vocabulary

_NAMESPACE = uuid.UUID("6f1c3a52-58b7-4c1e-9a57-0e6d3b7f2c10")


def clock_id(beneficiary_id: str, rule: str, subject_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"clock|{beneficiary_id}|{rule}|{subject_id}"))


def alert_id(beneficiary_id: str, rule: str, subject_id: str, period: str) -> str:
    """One id per person, rule, watched thing and period. Opaque: it tells nothing of dates."""
    return str(uuid.uuid5(_NAMESPACE, f"alert|{beneficiary_id}|{rule}|{subject_id}|{period}"))


@dataclass(frozen=True)
class Clock:
    beneficiary_id: str
    rule: str
    subject_id: str  # the person (not_seen), the activation or the step
    period: str
    anchor_at: datetime | None
    variant: str  # normal | short (not_seen after a fragile exit) | paused
    warn_at: datetime | None
    due_at: datetime | None

    @property
    def clock_id(self) -> str:
        return clock_id(self.beneficiary_id, self.rule, self.subject_id)

    @property
    def alert_id(self) -> str:
        return alert_id(self.beneficiary_id, self.rule, self.subject_id, self.period)

    @property
    def paused(self) -> bool:
        return self.variant == "paused"


def _warn(due: datetime, warning_days: int) -> datetime | None:
    return due - timedelta(days=warning_days) if warning_days > 0 else None


def _short_clock_after(view: JourneyView, params: Params) -> Transition | None:
    """The latest exit that puts the person on the short clock, if nobody has met them since."""
    for transition in reversed(view.transitions):
        if view.last_met is not None and view.last_met.occurred_at is not None \
                and view.last_met.occurred_at >= transition.occurred_at:
            return None
        if transition.kind not in params.short_transition_kinds:
            continue
        if params.short_when_any is None:
            matches = transition.fragile
        else:
            matches = any(transition.fragility.get(flag) in codes
                          for flag, codes in params.short_when_any.items())
        if matches:
            return transition
    return None


def not_seen_clock(view: JourneyView, params: Params) -> Clock | None:
    person = view.beneficiary_id
    if not params.enabled:
        return None
    staying = view.open_institution()
    if staying is not None:
        return Clock(person, "not_seen", person, f"stay:{staying.episode_id}", staying.started_at,
                     "paused", None, None)
    anchors: list[tuple[datetime, str]] = []
    if view.last_met is not None and view.last_met.occurred_at is not None:
        anchors.append((view.last_met.occurred_at, f"seen:{view.last_met.entry_id}"))
    exit_ = view.last_exit()
    if exit_ is not None and exit_.ended_at is not None:
        anchors.append((exit_.ended_at, f"exit:{exit_.episode_id}"))
    short = _short_clock_after(view, params)
    if short is not None:
        anchors.append((short.occurred_at, f"transition:{short.transition_id}"))
    if not anchors and view.first is not None:
        at = view.first.occurred_at or view.first.recorded_at
        anchors.append((at, f"first:{view.first.entry_id}"))
    if not anchors:
        return None
    anchor_at, period = max(anchors)
    days = params.short_days if short is not None else params.days
    due = anchor_at + timedelta(days=days)
    # A warning comes at most half-way: on a 7-day clock, not on the day of the exit.
    warning = min(params.warning_days, days // 2)
    return Clock(person, "not_seen", person, period, anchor_at,
                 "short" if short is not None else "normal", _warn(due, warning), due)


def activation_clocks(view: JourneyView, params: Params, vocabulary: Vocabulary,
                      zone: tzinfo) -> list[Clock]:
    if not params.enabled:
        return []
    statuses = vocabulary["activation_status"]
    found = []
    for activation in view.activations:
        if not statuses.term(activation.status).get("open"):
            continue
        # Due at the end of the due date (plus any grace), in the deployment's time zone.
        day = activation.due_date + timedelta(days=1 + params.grace_days)
        due = datetime.combine(day, time(0), tzinfo=zone)
        found.append(Clock(view.beneficiary_id, "activation_overdue", activation.activation_id,
                           f"due:{activation.due_date.isoformat()}", None, "normal",
                           _warn(due, params.warning_days), due))
    return found


def step_clocks(view: JourneyView, params: Params, vocabulary: Vocabulary) -> list[Clock]:
    if not params.enabled:
        return []
    statuses = vocabulary["step_status"]
    found = []
    for step in view.steps:
        if not statuses.term(step.status).get("open"):
            continue
        days = params.stall_days.get(step.kind)
        if not days:
            continue
        due = step.since + timedelta(days=days)
        found.append(Clock(view.beneficiary_id, "step_stalled", step.step_id,
                           f"state:{step.state_entry_id}", step.since, "normal",
                           _warn(due, params.warning_days), due))
    return found


def clocks_of(view: JourneyView, params: Mapping[str, Params], vocabulary: Vocabulary,
              zone: tzinfo) -> dict[tuple[str, str], Clock]:
    """Every clock the person should have now, by (rule, watched thing)."""
    found: list[Clock] = []
    seen = not_seen_clock(view, params["not_seen"])
    if seen is not None:
        found.append(seen)
    found.extend(activation_clocks(view, params["activation_overdue"], vocabulary, zone))
    found.extend(step_clocks(view, params["step_stalled"], vocabulary))
    return {(c.rule, c.subject_id): c for c in found}


def ending_reason(rule: str, subject_id: str, old_anchor_at: datetime | None, new: Clock | None,
                  view: JourneyView, *, rule_enabled: bool) -> str:
    """Why an alert whose period is over no longer stands (a code of resolution_reason).
    ``new`` is the clock now in force for the same rule and watched thing, if any."""
    if not rule_enabled:
        return "rule_changed"
    if rule == "not_seen":
        if new is None:
            return "entry_voided"
        if new.paused:
            return "institution_known"
        if old_anchor_at is not None and new.anchor_at is not None and new.anchor_at < old_anchor_at:
            return "entry_voided"  # what the old period started from was voided or corrected
        kind = new.period.split(":", 1)[0]
        if kind == "seen":
            return "seen_again"
        return "institution_known" if kind in ("exit", "transition") else "entry_voided"
    if new is not None:
        return "entry_corrected" if rule == "activation_overdue" else "step_moved"
    if rule == "activation_overdue":
        listed = any(a.activation_id == subject_id for a in view.activations)
        return "activation_answered" if listed else "entry_voided"
    return "step_moved" if any(s.step_id == subject_id for s in view.steps) else "entry_voided"
