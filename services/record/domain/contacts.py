"""A contact: who met (or tried to meet) the person, when, how. Never what was said."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

CATEGORY = "contacts"
MODALITIES = frozenset(
    {"in_person", "phone", "video", "home_visit", "street_outreach", "accompanied",
     "at_hospital", "in_prison"}
)
OUTCOMES = frozenset({"met", "attempt"})
VOCABULARY_VERSION = "2026.1"


class ContactRejected(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Author:
    subject: str
    organisation: str | None
    profession: str | None


@dataclass(frozen=True)
class Contact:
    beneficiary_id: str
    occurred_at: datetime
    modality: str
    outcome: str
    author: Author
    duration_minutes: int | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    recorded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    vocabulary_version: str = VOCABULARY_VERSION

    @property
    def counts_as_seen(self) -> bool:
        return self.outcome == "met"


def new_contact(
    beneficiary_id: str,
    occurred_at: datetime,
    modality: str,
    outcome: str,
    author: Author,
    duration_minutes: int | None = None,
    *,
    now: datetime | None = None,
) -> Contact:
    """Check the rules a contact must follow, then build it."""
    now = now or datetime.now(UTC)
    if occurred_at.tzinfo is None:
        raise ContactRejected("occurred_at", "Give a time zone (e.g. 2026-11-22T10:00:00+01:00).")
    if occurred_at > now:
        raise ContactRejected("occurred_at", "A contact cannot have happened in the future.")
    if modality not in MODALITIES:
        raise ContactRejected("modality", "Not a modality of the vocabulary.")
    if outcome not in OUTCOMES:
        raise ContactRejected("outcome", "Must be 'met' or 'attempt'.")
    if duration_minutes is not None and not 0 < duration_minutes <= 24 * 60:
        raise ContactRejected("duration_minutes", "Must be between 1 and 1440 minutes.")
    return Contact(
        beneficiary_id=beneficiary_id,
        occurred_at=occurred_at,
        modality=modality,
        outcome=outcome,
        author=author,
        duration_minutes=duration_minutes,
    )
