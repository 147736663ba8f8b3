"""Signals for the data-protection officer: prompts to look, never sanctions.

- ``emergency_access``: every access made under the emergency procedure;
- ``no_relationship``: a professional read a person on whom their organisation wrote nothing
  (no contact, step or referral: no C or U entry in this log) in the last N days;
- ``burst``: one professional read many persons outside their caseload in a short time.

A signal is itself an audit event (source ``audit``, action ``signal.<kind>``), about the
professional who made the access and, where there is one, the person concerned; the auditor's
search finds them with ``action=signal.``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.audit.domain.entries import AuditEvent

SOURCE = "audit"
EMERGENCY = "emergency_access"
NO_RELATIONSHIP = "no_relationship"
BURST = "burst"
WRITES = ("C", "U")


def is_emergency(event: AuditEvent) -> bool:
    body = event.body
    return bool(body.get("emergency_reason")) or body.get("purpose") == "emergency" or "emergency" in body["action"]


def needs_relationship(event: AuditEvent) -> bool:
    body = event.body
    return (
        body["crude"] == "R"
        and body["outcome"] == "permit"
        and bool(event.beneficiary_id)
        and bool(body["actor"]["organisation"])
        and body["actor"]["role"] != "beneficiary"
        and event.source != SOURCE
        and not is_emergency(event)
    )


@dataclass(frozen=True)
class Signal:
    kind: str
    trigger: AuditEvent
    detail: str
    beneficiary_id: str | None


def signal_event(signal: Signal, sequence: int | None, now: datetime) -> AuditEvent:
    trigger = signal.trigger.body
    body = {
        "actor": dict(trigger["actor"]),
        "action": f"signal.{signal.kind}",
        "crude": "E",
        "beneficiary_id": signal.beneficiary_id,
        "categories": [],
        "entry_ids": [signal.trigger.event_id],
        "purpose": "audit_signal",
        "emergency_reason": trigger.get("emergency_reason"),
        "outcome": "permit",
        "reason": signal.detail,
        "consent": None,
        "service": SOURCE,
        "request_id": trigger.get("request_id"),
    }
    return AuditEvent(str(uuid.uuid4()), "audit.signal_raised", SOURCE, sequence, now, body)
