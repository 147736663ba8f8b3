"""Corrections: an entry is never changed. A correction is a new entry of the same kind that
supersedes the old one; "entered in error" is a void entry with a coded reason. Both stay in the
history. Status changes are not corrected: the latest one of a thread can be voided, which gives
the thread back its previous state."""

from __future__ import annotations

from datetime import datetime

from services.record.domain.entries import Author, Entry, Problems
from shared.vocabularies import Vocabulary

CORRECTABLE = frozenset({"contact", "step", "episode", "transition", "activation"})
VOIDABLE = frozenset({"contact", "step", "step_status", "episode", "episode_end", "transition",
                      "activation", "activation_status", "referent", "care_team"})


def check_correctable(kind: str, *, replaced: bool) -> None:
    problems = Problems()
    if replaced:
        problems.add("entry_id", "This entry was already corrected or voided; correct the newest one.")
    elif kind not in CORRECTABLE:
        problems.add("entry_id", "This kind of entry is not corrected: void it and record it again.")
    problems.raise_if_any()


def void_entry(
    vocabulary: Vocabulary,
    author: Author,
    *,
    target: Entry,
    replaced: bool,
    latest_of_thread: bool,
    reason: str,
    now: datetime,
) -> Entry:
    problems = Problems()
    problems.code(vocabulary, "void_reason", "reason", reason)
    if replaced:
        problems.add("entry_id", "This entry was already corrected or voided.")
    elif target.kind not in VOIDABLE:
        problems.add("entry_id", "This kind of entry cannot be voided.")
    elif target.kind in ("step_status", "activation_status", "episode_end") and not latest_of_thread:
        problems.add("entry_id", "Only the latest change of a step, activation or episode can be voided.")
    problems.raise_if_any()
    return Entry(
        beneficiary_id=target.beneficiary_id, kind="void", category=target.category,
        occurred_at=now, author=author, vocabulary_version=vocabulary.version,
        body={"voided_entry_id": target.id, "voided_kind": target.kind, "reason": reason},
        thread_id=target.thread_id, supersedes=target.id, recorded_at=now,
    )
