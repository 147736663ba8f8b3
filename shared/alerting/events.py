"""The ``alert.*`` events the alerts service publishes: a prompt to reach out, never a score.
Ids, codes and times only. The record service counts a person's open alerts from them (its
caseload view); organisations' systems receive the same facts through signed webhooks.

Every alert has a stable ``alert_id`` (one per person, rule and period), so a consumer applies
each event idempotently by that id.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

ALERT_OPENED = "alert.opened"
ALERT_WARNED = "alert.warning"
ALERT_ACKNOWLEDGED = "alert.acknowledged"
ALERT_ESCALATED = "alert.escalated"
ALERT_SNOOZED = "alert.snoozed"
ALERT_RESOLVED = "alert.resolved"
CLOSE_ONE_NOTICE = "alert.close_one_notice"
# States in which an alert still asks someone to act.
OPEN_EVENTS = frozenset({ALERT_OPENED, ALERT_ACKNOWLEDGED, ALERT_ESCALATED, ALERT_SNOOZED})
CLOSED_EVENTS = frozenset({ALERT_RESOLVED})


class AlertEvent(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE  # the alerts service may add codes; consumers read what they know

    alert_id = ma.fields.String(required=True)
    beneficiary_id = ma.fields.String(required=True)
    rule = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    at = ma.fields.AwareDateTime(required=True)


_schema = AlertEvent()


class InvalidAlertEvent(ValueError):
    pass


def load(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    if not event_type.startswith("alert."):
        raise InvalidAlertEvent(f"{event_type} is not an alert event")
    try:
        return _schema.load(payload)
    except ma.ValidationError as exc:
        raise InvalidAlertEvent(f"{event_type}: {exc.messages}") from None
