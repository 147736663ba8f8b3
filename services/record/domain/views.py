"""How an entry is shown to one reader: codes always, their labels in the reader's language, and
the author's service masked where it would reveal what the reader may not see (a contact with a
mental-health professional, for a reader without the mental-health category)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
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
    codes = tuple(sorted([item for item in entry.body.items() if type(item[1]) is str]))
    fragility = entry.body.get("fragility")
    flags = tuple(sorted(fragility.items())) if isinstance(fragility, Mapping) else ()
    return dict(_labels(vocabulary, entry.kind, codes, flags, language))


@lru_cache(maxsize=8192)
def _labels(vocabulary: Vocabulary, kind: str, codes: tuple[tuple[str, str], ...],
            flags: tuple[tuple[str, str], ...], language: str) -> tuple[tuple[str, str], ...]:
    """The labels of one combination of codes: entries repeat the same few, so each is worked
    out once per process."""
    labels = {"kind": vocabulary["entry_kind"].label(kind, language)}
    for name, value in codes:
        list_name = _FIELD_LISTS.get(name)
        if name in ("status", "previous_status"):
            list_name = _STATUS_LISTS.get(kind)
        elif name == "reason":
            list_name = _REASON_LISTS.get(kind)
        elif name == "voided_kind":
            list_name = "entry_kind"
        elif name == "profession":
            labels[name] = professions().label(value, language)
            continue
        if list_name:
            labels[name] = vocabulary[list_name].label(value, language)
    for flag, value in flags:
        labels[f"fragility.{flag}"] = vocabulary[f"fragility_{flag}"].label(value, language)
    return tuple(labels.items())


def author_is_sensitive(profession: str | None) -> bool:
    """A mental-health professional's contact tells of mental-health care."""
    known = professions().professions.get(profession or "")
    return bool(known and known.mental_health)


@dataclass(frozen=True)
class Reader:
    """What the reader may see, as the consent decision said."""

    categories: frozenset[str]
    language: str
    own_record: bool = False

    def sees_author_of(self, entry: Entry) -> bool:
        return self.own_record or PROTECTED in self.categories or not author_is_sensitive(
            entry.author.profession)


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
