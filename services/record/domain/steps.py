"""A step (démarche) under way: its kind, the organisation responsible, an optional due date,
and a status life cycle requested → in progress → done | abandoned | blocked (with a coded
blocker). Each status change is an entry of its own, so the history shows who moved it when."""

from __future__ import annotations

from datetime import date, datetime

from services.record.domain.entries import Author, Entry, Problems, new_id
from shared.vocabularies import Vocabulary

CATEGORY = "steps"
BLOCKED = "blocked"
INITIAL = ("requested", "in_progress", BLOCKED)
# A status that needs a field: (the field, the code list of its values).
REQUIRES = {BLOCKED: ("blocker", "step_blocker")}
# Where a step may go from each status. done and abandoned are final.
LIFECYCLE: dict[str, frozenset[str]] = {
    "requested": frozenset({"in_progress", "blocked", "abandoned"}),
    "in_progress": frozenset({"done", "blocked", "abandoned"}),
    "blocked": frozenset({"in_progress", "blocked", "abandoned"}),
    "done": frozenset(),
    "abandoned": frozenset(),
}


def category_of(vocabulary: Vocabulary, step_kind: str) -> str:
    """Most steps are "steps"; a mental-health follow-up falls under the protected category."""
    return vocabulary["step_kind"].term(step_kind).get("category", CATEGORY)


def is_open(vocabulary: Vocabulary, status: str) -> bool:
    return bool(vocabulary["step_status"].term(status).get("open"))


def _check_blocker(problems: Problems, vocabulary: Vocabulary, status: str,
                   blocker: str | None) -> None:
    if status == BLOCKED:
        problems.code(vocabulary, "step_blocker", "blocker", blocker)
    elif blocker is not None:
        problems.add("blocker", "Only a blocked step has a blocker.")


def open_step(
    vocabulary: Vocabulary,
    beneficiary_id: str,
    author: Author,
    *,
    step_kind: str,
    status: str,
    blocker: str | None,
    organisation: str | None,
    due_date: date | None,
    occurred_at: datetime,
    now: datetime,
    step_id: str | None = None,
    supersedes: str | None = None,
) -> Entry:
    problems = Problems()
    problems.past("occurred_at", occurred_at, now)
    problems.code(vocabulary, "step_kind", "step_kind", step_kind)
    if status not in INITIAL:
        problems.add("status", f"A new step starts as one of {', '.join(INITIAL)}.")
    _check_blocker(problems, vocabulary, status, blocker)
    problems.identifier("organisation", organisation)
    problems.raise_if_any()
    step_id = step_id or new_id()
    return Entry(
        beneficiary_id=beneficiary_id,
        kind="step",
        category=category_of(vocabulary, step_kind),
        occurred_at=occurred_at,
        author=author,
        vocabulary_version=vocabulary.version,
        body={"step_id": step_id, "step_kind": step_kind, "status": status, "blocker": blocker,
              "organisation": organisation,
              "due_date": due_date.isoformat() if due_date else None},
        thread_id=step_id,
        supersedes=supersedes,
        recorded_at=now,
    )


def change_status(
    vocabulary: Vocabulary,
    beneficiary_id: str,
    author: Author,
    *,
    step_id: str,
    step_kind: str,
    current_status: str,
    current_blocker: str | None,
    since: datetime,
    status: str,
    blocker: str | None,
    occurred_at: datetime,
    now: datetime,
) -> Entry:
    problems = Problems()
    problems.past("occurred_at", occurred_at, now)
    if occurred_at < since:
        problems.add("occurred_at", "Cannot be before the step's last change.")
    problems.code(vocabulary, "step_status", "status", status)
    if status in LIFECYCLE and status not in LIFECYCLE[current_status]:
        problems.add("status", f"A step that is {current_status} cannot become {status}.")
    elif status == current_status == BLOCKED and blocker == current_blocker:
        problems.add("blocker", "The step is already blocked for this reason.")
    _check_blocker(problems, vocabulary, status, blocker)
    problems.raise_if_any()
    return Entry(
        beneficiary_id=beneficiary_id,
        kind="step_status",
        category=category_of(vocabulary, step_kind),
        occurred_at=occurred_at,
        author=author,
        vocabulary_version=vocabulary.version,
        body={"step_id": step_id, "step_kind": step_kind, "status": status,
              "previous_status": current_status, "blocker": blocker},
        thread_id=step_id,
        recorded_at=now,
    )
