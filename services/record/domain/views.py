"""How an entry is shown to one reader: codes always, their labels in the reader's language, and
the author's service masked where it would reveal what the reader may not see (a contact with a
mental-health professional, for a reader without the mental-health category)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from services.record.domain.entries import Entry
from shared.consent.vocabulary import professions
from shared.vocabularies import Vocabulary

PROTECTED = "mental_health_episodes"

# field of an entry's body → the vocabulary list its codes come from, per entry kind.
_STATUS_LISTS = {"step": "step_status", "step_status": "step_status",
                 "activation": "activation_status", "activation_status": "activation_status"}
_REASON_LISTS = {"activation_status": "activation_decline_reason", "void": "void_reason"}
_FIELD_LISTS = {
    "modality": "contact_modality", "outcome": "contact_outcome", "step_kind": "step_kind",
    "blocker": "step_blocker", "episode_type": "episode_type", "transition_kind": "transition_kind",
    "service_kind": "service_kind", "change": "team_change",
}


def labels_of(vocabulary: Vocabulary, entry: Entry, language: str) -> dict[str, str]:
    """The label of every code of the entry, in ``language``; an unknown code is its own label."""
    table = _label_table(vocabulary, language)
    fields = _field_lists(entry.kind)
    labels = {"kind": table["entry_kind"].get(entry.kind, entry.kind)}
    fragility = None
    for name, value in entry.body.items():
        if type(value) is str:
            list_name = fields.get(name)
            if list_name is not None:
                labels[name] = table.get(list_name, _NO_LABELS).get(value, value)
        elif name == "fragility" and isinstance(value, Mapping):
            fragility = value
    if fragility:
        for flag, value in fragility.items():
            labels[f"fragility.{flag}"] = table.get(f"fragility_{flag}", _NO_LABELS).get(value, value)
    return labels


_PROFESSIONS = "profession"  # the professions' own vocabulary (shared.consent), not a journey list
_NO_LABELS: Mapping[str, str] = {}


@lru_cache(maxsize=64)
def _field_lists(kind: str) -> Mapping[str, str]:
    """For one kind of entry: field of its body → the list its codes come from."""
    fields = dict(_FIELD_LISTS)
    fields["voided_kind"] = "entry_kind"
    fields["profession"] = _PROFESSIONS
    if kind in _STATUS_LISTS:
        fields["status"] = fields["previous_status"] = _STATUS_LISTS[kind]
    if kind in _REASON_LISTS:
        fields["reason"] = _REASON_LISTS[kind]
    return fields


@lru_cache(maxsize=16)
def _label_table(vocabulary: Vocabulary, language: str) -> Mapping[str, Mapping[str, str]]:
    """Every label of the vocabulary (and of the professions) in one language, worked out once
    per process: list → code → label."""
    table = {name: {term.code: term.label(language) for term in codes}
             for name, codes in vocabulary.lists.items()}
    known = professions()
    table[_PROFESSIONS] = {code: known.label(code, language) for code in known.professions}
    return table


@lru_cache(maxsize=1)
def _sensitive_professions() -> frozenset[str]:
    return frozenset(code for code, known in professions().professions.items() if known.mental_health)


def plain_json(value: Any) -> str:
    """For orjson: a date or datetime as ``isoformat`` writes it (aware datetimes orjson writes
    itself, the same way)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def author_is_sensitive(profession: str | None) -> bool:
    """A mental-health professional's contact tells of mental-health care."""
    return profession in _sensitive_professions()


@dataclass(frozen=True)
class Reader:
    """What the reader may see, as the consent decision said."""

    categories: frozenset[str]
    language: str
    own_record: bool = False

    def sees_author_of(self, entry: Entry) -> bool:
        return self.sees_author(entry.author.profession)

    def sees_author(self, profession: str | None) -> bool:
        return self.own_record or PROTECTED in self.categories or not author_is_sensitive(profession)


def show(vocabulary: Vocabulary, entry: Entry, reader: Reader, *,
         replaced_by: Mapping[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """One entry as the API answers it. ``replaced_by`` maps an entry id to (how, by which)."""
    visible = reader.sees_author_of(entry)
    replacement = (replaced_by or {}).get(entry.id)
    return {
        "id": entry.id,
        "kind": entry.kind,
        "category": entry.category,
        "occurred_at": entry.occurred_at,
        "recorded_at": entry.recorded_at,
        "thread_id": entry.thread_id,
        "author": {
            "organisation": entry.author.organisation if visible else None,
            "profession": entry.author.profession if visible else None,
            "masked": not visible,
        },
        "vocabulary_version": entry.vocabulary_version,
        "supersedes": entry.supersedes,
        "status": "current" if replacement is None else replacement[0],
        "replaced_by": None if replacement is None else replacement[1],
        "data": entry.body,
        "labels": labels_of(vocabulary, entry, reader.language),
    }


# -- cursors -----------------------------------------------------------------------------------
class BadCursor(ValueError):
    pass


def encode_cursor(occurred_at: datetime, entry_id: str) -> str:
    raw = json.dumps([occurred_at.isoformat(), entry_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, entry_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(entry_id, str) or len(entry_id) > 36:
            raise ValueError
        return moment, entry_id
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise BadCursor("not a cursor this service gave") from None


def permitted_filter(asked: Collection[str] | None, permitted: frozenset[str]) -> frozenset[str]:
    """The categories to read: those asked for (all when none) that the reader may see."""
    return permitted if not asked else permitted & frozenset(asked)
