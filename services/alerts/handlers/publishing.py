"""The ``alert.*`` events (shared/alerting/events.py is the contract): written to the outbox in
the transaction of the change, and queued in the same transaction as a signed webhook delivery
for every active subscription of the alert's organisation that asked for that event type.
Ids, codes and times only; never a count, never a score."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from shared.bus.envelope import Envelope

PRODUCER = "alerts"


@dataclass(frozen=True)
class AlertFacts:
    """What every alert event says about its alert."""

    alert_id: str
    beneficiary_id: str
    rule: str
    subject_id: str
    organisation: str | None


def payload(alert: AlertFacts, state: str, at: datetime | str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"alert_id": alert.alert_id, "beneficiary_id": alert.beneficiary_id, "rule": alert.rule,
            "state": state, "at": at if isinstance(at, str) else at.isoformat(),
            "subject_id": alert.subject_id, "organisation": alert.organisation, **(extra or {})}


def webhook_body(envelope: Envelope) -> str:
    return json.dumps({"id": envelope.id, "type": envelope.type,
                       "occurred_at": envelope.occurred_at.isoformat(), "data": envelope.payload},
                      separators=(",", ":"), sort_keys=True)


class Publisher:
    """Collects the events of one transaction and writes them (and their deliveries) at once."""

    def __init__(self, work: AlertsUnitOfWork, now: datetime, correlation_id: str | None = None) -> None:
        self.work = work
        self.now = now
        self.correlation_id = correlation_id
        self._at = now.isoformat()
        self.envelopes: list[Envelope] = []

    def add(self, event_type: str, alert: AlertFacts, state: str, extra: dict[str, Any] | None = None) -> None:
        self.envelopes.append(Envelope(
            type=event_type, producer=PRODUCER, payload=payload(alert, state, self._at, extra),
            correlation_id=self.correlation_id, occurred_at=self.now))

    def flush(self) -> list[Envelope]:
        envelopes, self.envelopes = self.envelopes, []
        if not envelopes:
            return []
        self.work.publish_many(envelopes)
        organisations = {e.payload.get("organisation") for e in envelopes}
        subscribed = self.work.webhooks.active_for([o for o in organisations if o])
        rows = []
        for envelope in envelopes:
            for webhook in subscribed.get(envelope.payload.get("organisation") or "", ()):
                if envelope.type in webhook.event_types:
                    rows.append({
                        "delivery_id": str(uuid.uuid4()), "webhook_id": webhook.webhook_id,
                        "event_id": envelope.id, "event_type": envelope.type,
                        "beneficiary_id": envelope.payload["beneficiary_id"],
                        "body": webhook_body(envelope), "state": "pending", "attempts": 0,
                        "next_attempt_at": self.now, "last_status": None, "last_error": None,
                        "created_at": self.now, "finished_at": None})
        self.work.webhooks.enqueue(rows)
        return envelopes
