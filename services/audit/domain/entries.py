"""What the log keeps of an audit event: ids, codes and times — never a name or record content."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LogEntry:
    event_id: str
    source: str
    source_sequence: int | None
    event_type: str
    occurred_at: datetime
    beneficiary_id: str | None
    actor_subject: str | None
    actor_organisation: str | None
    action: str
    outcome: str
    canonical: str


def canonical_bytes(document: dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8; the same event gives the same text."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_from_event(
    event_id: str,
    event_type: str,
    producer: str,
    sequence: int | None,
    occurred_at: datetime,
    payload: dict[str, Any],
) -> LogEntry:
    actor = payload.get("actor") or {}
    document = {
        "event_id": event_id,
        "type": event_type,
        "source": producer,
        "source_sequence": sequence,
        "occurred_at": occurred_at.isoformat(),
        "payload": payload,
    }
    return LogEntry(
        event_id=event_id,
        source=producer,
        source_sequence=sequence,
        event_type=event_type,
        occurred_at=occurred_at,
        beneficiary_id=payload.get("beneficiary_id"),
        actor_subject=actor.get("subject"),
        actor_organisation=actor.get("organisation"),
        action=str(payload.get("action", "")),
        outcome=str(payload.get("outcome", "")),
        canonical=canonical_bytes(document),
    )
