"""A journey entry: one objective fact about a person, never the content of what was said.

Entries are immutable. Each has an id, the person's pseudonymous id, its author (professional,
organisation, profession, from the token), when it happened, when it was recorded, its kind,
the consent category it falls under, the version of the vocabulary its codes were checked
against, and a body of codes, dates and ids. A change of state (a step moved, an episode ended)
is an entry of its own; a correction is a new entry that supersedes another; "entered in error"
is a void entry. Entries that belong together (a step and its status changes) share a thread id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from shared.vocabularies import Vocabulary

# Organisation codes and professionals' account ids are identifiers, never prose: no spaces.
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,119}$")

KINDS = (
    "contact", "step", "step_status", "episode", "episode_end", "transition", "activation",
    "activation_status", "referent", "care_team", "void",
)


class Rejected(ValueError):
    """The entry breaks a rule of the journey; ``errors`` names each offending field."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{f}: {m}" for f, m in self.errors))


class Problems:
    """Collects every broken rule of one request, so the answer names them all at once."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def add(self, field_name: str, message: str) -> None:
        self.errors.append((field_name, message))

    def code(self, vocabulary: Vocabulary, list_name: str, field_name: str, value: str | None,
             *, required: bool = True) -> None:
        if value is None:
            if required:
                self.add(field_name, "Missing.")
            return
        if value not in vocabulary[list_name]:
            self.add(field_name, f"Not a code of the vocabulary list {list_name!r}.")

    def identifier(self, field_name: str, value: str | None) -> None:
        if value is not None and not IDENTIFIER.match(value):
            self.add(field_name, "An identifier (letters, digits, . _ : @ -), not prose.")

    def past(self, field_name: str, value: datetime | None, now: datetime) -> None:
        if value is None:
            return
        if value.tzinfo is None:
            self.add(field_name, "Give a time zone (e.g. 2026-11-22T10:00:00+01:00).")
        elif value > now:
            self.add(field_name, "Cannot be in the future: it already happened.")

    def order(self, start_field: str, start: datetime | date | None, end_field: str,
              end: datetime | date | None) -> None:
        if start is not None and end is not None and _comparable(end) < _comparable(start):
            self.add(end_field, f"Cannot be before {start_field}.")

    def raise_if_any(self) -> None:
        if self.errors:
            raise Rejected(self.errors)


def _comparable(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


@dataclass(frozen=True)
class Author:
    subject: str
    organisation: str | None
    profession: str | None

    @classmethod
    def stored(cls, subject: str, organisation: str | None, profession: str | None) -> Author:
        """As read back from the database (see ``Entry.stored``)."""
        author = object.__new__(cls)
        author.__dict__.update(subject=subject, organisation=organisation, profession=profession)
        return author


@dataclass(frozen=True)
class Entry:
    beneficiary_id: str
    kind: str
    category: str
    occurred_at: datetime
    author: Author
    vocabulary_version: str
    body: dict[str, Any]
    thread_id: str | None = None
    supersedes: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    recorded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def stored(cls, *, beneficiary_id: str, kind: str, category: str, occurred_at: datetime,
               author: Author, vocabulary_version: str, body: dict[str, Any], thread_id: str | None,
               supersedes: str | None, id: str, recorded_at: datetime) -> Entry:
        """An entry as read back from the database, every field given: the same immutable
        entry, made without the frozen dataclass's checked assignment of each field in turn,
        which costs more than the rest of reading it (a timeline page reads a hundred)."""
        entry = object.__new__(cls)
        entry.__dict__.update(
            beneficiary_id=beneficiary_id, kind=kind, category=category, occurred_at=occurred_at,
            author=author, vocabulary_version=vocabulary_version, body=body, thread_id=thread_id,
            supersedes=supersedes, id=id, recorded_at=recorded_at)
        return entry


def new_id() -> str:
    return str(uuid.uuid4())
