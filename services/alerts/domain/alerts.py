"""The life of an alert: warning → open → (escalated) → acknowledged → resolved, with snoozes.

An alert asks someone to reach out. It is acknowledged by a professional with a coded reason
(and the date they know the person was last seen, if they know it), resolved automatically
when its period ends (the person was seen, the service answered, the step moved) or by hand
with a coded reason, snoozed a limited number of times, and escalated — to the care team, the
organisation's coordinator or a professional the rule names — when nobody acknowledges it in
time. Nothing here scores, ranks or counts anything about the person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from services.alerts.domain.rules import Params
from shared.alerting import events
from shared.vocabularies import Vocabulary

WARNING, OPEN, ESCALATED, ACKNOWLEDGED, SNOOZED, RESOLVED = (
    "warning", "open", "escalated", "acknowledged", "snoozed", "resolved")
UNRESOLVED: tuple[str, ...] = (WARNING, OPEN, ESCALATED, ACKNOWLEDGED, SNOOZED)
# States that ask someone to act (the person's own view shows these).
ASKING: tuple[str, ...] = (OPEN, ESCALATED, ACKNOWLEDGED, SNOOZED)
SNOOZED_EVENT_END = "alert.snooze_ended"


class NotNow(ValueError):
    """The alert is not in a state that allows this (already resolved, snooze limit…)."""


class Invalid(ValueError):
    """Bad input; ``errors`` names each field."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))


@dataclass(frozen=True)
class AlertRow:
    alert_id: str
    beneficiary_id: str
    rule: str
    subject_id: str
    state: str
    level: int
    snoozes: int
    organisation: str | None


@dataclass(frozen=True)
class Change:
    """What an action does: the columns to set, and the event that tells it."""

    values: Mapping[str, Any]
    event_type: str
    extra: Mapping[str, Any]


def automatic_reasons(vocabulary: Vocabulary) -> frozenset[str]:
    return frozenset(t.code for t in vocabulary["resolution_reason"] if t.get("automatic"))


def acknowledge(alert: AlertRow, vocabulary: Vocabulary, *, reason: str,
                last_seen_on: date | None, by: str, now: datetime) -> Change:
    if alert.state not in (WARNING, OPEN, ESCALATED, SNOOZED):
        raise NotNow(f"This alert is {alert.state}: it cannot be acknowledged.")
    errors = []
    if reason not in vocabulary["acknowledgement_reason"]:
        errors.append(("reason", "Not a code of acknowledgement_reason."))
    if last_seen_on is not None and last_seen_on > now.date():
        errors.append(("last_seen_on", "Cannot be in the future."))
    if errors:
        raise Invalid(errors)
    return Change({"state": ACKNOWLEDGED, "acknowledged_at": now, "acknowledged_by": by,
                   "acknowledgement_reason": reason, "reported_last_seen_on": last_seen_on,
                   "next_at": None, "snoozed_until": None, "changed_at": now},
                  events.ALERT_ACKNOWLEDGED, {"reason": reason})


def snooze(alert: AlertRow, params: Params, *, days: int, now: datetime) -> Change:
    if alert.state not in (OPEN, ESCALATED):
        raise NotNow(f"This alert is {alert.state}: only an open alert can be snoozed.")
    if alert.snoozes >= params.snooze_max_times:
        raise NotNow(f"This alert was snoozed {alert.snoozes} times, the most its rule allows.")
    if not 1 <= days <= params.snooze_max_days:
        raise Invalid([("days", f"From 1 to {params.snooze_max_days} days for this rule.")])
    until = now + timedelta(days=days)
    return Change({"state": SNOOZED, "snoozed_until": until, "snoozes": alert.snoozes + 1,
                   "next_at": until, "changed_at": now},
                  events.ALERT_SNOOZED, {"until": until.isoformat(),
                                         "snoozes_left": params.snooze_max_times - alert.snoozes - 1})


def wake(alert: AlertRow, params: Params, *, now: datetime) -> Change:
    """A snooze ended: the alert asks again, and escalates again if nobody acknowledges it."""
    state = ESCALATED if alert.level > 0 else OPEN
    return Change({"state": state, "snoozed_until": None, "changed_at": now,
                   "next_at": _next_escalation(params, alert.level, now)},
                  SNOOZED_EVENT_END, {})


def resolve(alert: AlertRow, vocabulary: Vocabulary, *, reason: str, by: str | None,
            now: datetime, automatic: bool = False) -> Change:
    if alert.state == RESOLVED:
        raise NotNow("This alert is resolved already.")
    if reason not in vocabulary["resolution_reason"]:
        raise Invalid([("reason", "Not a code of resolution_reason.")])
    if not automatic and reason in automatic_reasons(vocabulary):
        raise Invalid([("reason", "This reason is set by the service itself, not by hand.")])
    return Change({"state": RESOLVED, "resolved_at": now, "resolved_by": by, "resolution": reason,
                   "next_at": None, "snoozed_until": None, "changed_at": now},
                  events.ALERT_RESOLVED, {"resolution": reason, "automatic": automatic})


def _next_escalation(params: Params, level: int, now: datetime) -> datetime | None:
    if level >= len(params.escalate_to):
        return None
    return now + timedelta(days=params.escalate_after_days)


@dataclass(frozen=True)
class Escalation:
    level: int
    target: str  # care_team | coordinator | professional
    recipient: str | None  # the professional reached, for coordinator and professional steps
    change: Change | None  # None: nobody left to reach


def escalate(alert: AlertRow, params: Params, *, coordinator: str | None,
             now: datetime) -> Escalation:
    """The next step of the rule's escalation. A step with nobody behind it (no coordinator
    named) is passed over for the next one."""
    level = alert.level
    steps = params.escalate_to
    while level < len(steps):
        step = steps[level]
        level += 1
        if step == "care_team":
            target, recipient = "care_team", None
        elif step == "coordinator":
            if not coordinator:
                continue
            target, recipient = "coordinator", coordinator
        else:
            target, recipient = "professional", step.split(":", 1)[1]
        values: dict[str, Any] = {"state": ESCALATED, "level": level, "escalated_at": now,
                                  "changed_at": now, "next_at": _next_escalation(params, level, now)}
        if target == "care_team":
            values["audience"] = "care_team"
        return Escalation(level, target, recipient,
                          Change(values, events.ALERT_ESCALATED, {"level": level, "target": target}))
    return Escalation(level, "", None, None)
