"""Who follows the person: their current référent (case manager) and their care team, with
history. Professionals are named by their account id, organisation and profession, never by
name; the category is *referent*."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from services.record.domain.entries import Author, Entry, Problems
from shared.consent.vocabulary import professions
from shared.vocabularies import Vocabulary

CATEGORY = "referent"


def _check_professional(problems: Problems, subject: str, organisation: str | None,
                        profession: str | None) -> None:
    problems.identifier("subject", subject)
    problems.identifier("organisation", organisation)
    if profession is not None and profession not in professions():
        problems.add("profession", "Not a code of the profession vocabulary.")


def name_referent(
    vocabulary: Vocabulary,
    beneficiary_id: str,
    author: Author,
    *,
    subject: str,
    organisation: str | None,
    profession: str | None,
    current_subject: str | None,
    occurred_at: datetime,
    now: datetime,
) -> Entry:
    problems = Problems()
    problems.past("occurred_at", occurred_at, now)
    _check_professional(problems, subject, organisation, profession)
    if subject == current_subject:
        problems.add("subject", "This professional is already the référent.")
    problems.raise_if_any()
    return Entry(
        beneficiary_id=beneficiary_id, kind="referent", category=CATEGORY,
        occurred_at=occurred_at, author=author, vocabulary_version=vocabulary.version,
        body={"subject": subject, "organisation": organisation, "profession": profession,
              "previous_subject": current_subject},
        recorded_at=now,
    )


def change_care_team(
    vocabulary: Vocabulary,
    beneficiary_id: str,
    author: Author,
    *,
    subject: str,
    organisation: str | None,
    profession: str | None,
    change: str,
    members: Iterable[str],
    occurred_at: datetime,
    now: datetime,
) -> Entry:
    problems = Problems()
    problems.past("occurred_at", occurred_at, now)
    _check_professional(problems, subject, organisation, profession)
    problems.code(vocabulary, "team_change", "change", change)
    present = subject in set(members)
    if change == "added" and present:
        problems.add("subject", "Already in the care team.")
    if change == "removed" and not present:
        problems.add("subject", "Not in the care team.")
    problems.raise_if_any()
    return Entry(
        beneficiary_id=beneficiary_id, kind="care_team", category=CATEGORY,
        occurred_at=occurred_at, author=author, vocabulary_version=vocabulary.version,
        body={"subject": subject, "organisation": organisation, "profession": profession,
              "change": change},
        recorded_at=now,
    )


def current_members(changes: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The care team after ``changes`` (care_team entry bodies, oldest first)."""
    members: dict[str, dict[str, Any]] = {}
    for body in changes:
        if body["change"] == "added":
            members[body["subject"]] = body
        else:
            members.pop(body["subject"], None)
    return members
