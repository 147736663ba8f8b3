"""A contact: who met (or tried to meet) the person, when and how. Never what was said.
Only a contact where the person was met counts as seen; an attempt is kept apart."""

from __future__ import annotations

from datetime import datetime

from services.record.domain.entries import Author, Entry, Problems
from shared.vocabularies import Vocabulary

CATEGORY = "contacts"
MAX_MINUTES = 24 * 60


def new_contact(
    vocabulary: Vocabulary,
    beneficiary_id: str,
    author: Author,
    *,
    occurred_at: datetime,
    modality: str,
    outcome: str,
    duration_minutes: int | None,
    now: datetime,
    supersedes: str | None = None,
) -> Entry:
    problems = Problems()
    problems.past("occurred_at", occurred_at, now)
    problems.code(vocabulary, "contact_modality", "modality", modality)
    problems.code(vocabulary, "contact_outcome", "outcome", outcome)
    if duration_minutes is not None and not 0 < duration_minutes <= MAX_MINUTES:
        problems.add("duration_minutes", f"Between 1 and {MAX_MINUTES} minutes.")
    problems.raise_if_any()
    return Entry(
        beneficiary_id=beneficiary_id,
        kind="contact",
        category=CATEGORY,
        occurred_at=occurred_at,
        author=author,
        vocabulary_version=vocabulary.version,
        body={"modality": modality, "outcome": outcome, "duration_minutes": duration_minutes},
        supersedes=supersedes,
        recorded_at=now,
    )


def counts_as_seen(vocabulary: Vocabulary, entry: Entry) -> bool:
    return bool(vocabulary["contact_outcome"].term(entry.body["outcome"]).get("seen"))
