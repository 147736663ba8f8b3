"""How an alert reads, for a professional, for the person it is about, and for a close one. A
professional sees the rule, the state and how it was handled; the person sees only that someone
was asked to reach out; a close one sees only that the contact person was asked to get in touch.
No view holds a count, a score or a rank."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from services.alerts.adapters.alert_store import Alert
from services.alerts.domain import alerts as life
from services.alerts.domain.rules import Params
from shared.vocabularies import Vocabulary


class BadCursor(ValueError):
    pass


def encode_cursor(at: datetime, alert_id: str) -> str:
    raw = json.dumps([at.isoformat(), alert_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, alert_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(alert_id, str):
            raise ValueError
        return moment, alert_id
    except (ValueError, TypeError):
        raise BadCursor(cursor) from None


def professional_view(vocabulary: Vocabulary, alert: Alert, language: str, *,
                      escalated_to: list[str], params: Params) -> dict[str, Any]:
    def lab(list_name: str, code: str | None) -> str | None:
        return None if code is None else vocabulary[list_name].label(code, language)

    acknowledged = None
    if alert.acknowledged_at is not None:
        acknowledged = {"at": alert.acknowledged_at, "by": alert.acknowledged_by,
                        "reason": alert.acknowledgement_reason,
                        "reason_label": lab("acknowledgement_reason", alert.acknowledgement_reason),
                        "last_seen_on": alert.reported_last_seen_on}
    resolved = None
    if alert.resolved_at is not None:
        automatic = alert.resolution in life.automatic_reasons(vocabulary)
        resolved = {"at": alert.resolved_at, "by": alert.resolved_by, "reason": alert.resolution,
                    "reason_label": lab("resolution_reason", alert.resolution), "automatic": automatic}
    return {
        "alert_id": alert.alert_id, "beneficiary_id": alert.beneficiary_id, "rule": alert.rule,
        "rule_label": lab("rule", alert.rule), "state": alert.state,
        "state_label": lab("alert_state", alert.state),
        "subject_id": alert.subject_id if alert.subject_id != alert.beneficiary_id else None,
        "organisation": alert.organisation, "since": alert.anchor_at, "due_at": alert.due_at,
        "raised_at": alert.raised_at, "opened_at": alert.opened_at,
        "escalation_level": alert.level, "escalated_at": alert.escalated_at,
        "escalated_to": escalated_to, "reaches_care_team": alert.audience == "care_team",
        "acknowledged": acknowledged, "snoozed_until": alert.snoozed_until,
        "snoozes_left": max(0, params.snooze_max_times - alert.snoozes), "resolved": resolved,
    }


def own_view(vocabulary: Vocabulary, alert: Alert, language: str) -> dict[str, Any]:
    taken = alert.state == life.ACKNOWLEDGED
    code = "someone_on_it" if taken else "someone_asked"
    return {"asked_at": alert.opened_at or alert.raised_at,
            "message": vocabulary["message"].label(code, language), "message_code": code}


def close_one_view(vocabulary: Vocabulary, notice_id: str, at: datetime, language: str) -> dict[str, Any]:
    return {"notice_id": notice_id, "at": at,
            "message": vocabulary["message"].label("close_one_notice", language),
            "message_code": "close_one_notice"}
