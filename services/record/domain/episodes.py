"""An episode: a period in a place or an institution (hospital or psychiatric stay,
incarceration, the street, a shelter, supported housing...), with a start and maybe an end.
Psychiatric and addiction stays fall under the protected category *mental-health episodes*."""

from __future__ import annotations

from datetime import datetime

from services.record.domain.entries import Author, Entry, Problems, new_id
from shared.vocabularies import Vocabulary

CATEGORY = "episodes"


def category_of(vocabulary: Vocabulary, episode_type: str) -> str:
    return vocabulary["episode_type"].term(episode_type).get("category", CATEGORY)


def is_institution(vocabulary: Vocabulary, episode_type: str) -> bool:
    """While the person is in an institution, not being seen is not a reason to worry."""
    return bool(vocabulary["episode_type"].term(episode_type).get("institution"))


def open_episode(
    vocabulary: Vocabulary,
    beneficiary_id: str,
    author: Author,
    *,
    episode_type: str,
    started_at: datetime,
    ended_at: datetime | None,
    now: datetime,
    episode_id: str | None = None,
    supersedes: str | None = None,
) -> Entry:
    problems = Problems()
    problems.code(vocabulary, "episode_type", "episode_type", episode_type)
    problems.past("started_at", started_at, now)
    problems.past("ended_at", ended_at, now)
    problems.order("started_at", started_at, "ended_at", ended_at)
    problems.raise_if_any()
    episode_id = episode_id or new_id()
    return Entry(
        beneficiary_id=beneficiary_id,
        kind="episode",
        category=category_of(vocabulary, episode_type),
        occurred_at=started_at,
        author=author,
        vocabulary_version=vocabulary.version,
        body={"episode_id": episode_id, "episode_type": episode_type,
              "started_at": started_at.isoformat(),
              "ended_at": ended_at.isoformat() if ended_at else None},
        thread_id=episode_id,
        supersedes=supersedes,
        recorded_at=now,
    )


def end_episode(
    vocabulary: Vocabulary,
    beneficiary_id: str,
    author: Author,
    *,
    episode_id: str,
    episode_type: str,
    started_at: datetime,
    already_ended: bool,
    ended_at: datetime,
    now: datetime,
) -> Entry:
    problems = Problems()
    if already_ended:
        problems.add("ended_at", "This episode has already ended.")
    problems.past("ended_at", ended_at, now)
    problems.order("started_at", started_at, "ended_at", ended_at)
    problems.raise_if_any()
    return Entry(
        beneficiary_id=beneficiary_id,
        kind="episode_end",
        category=category_of(vocabulary, episode_type),
        occurred_at=ended_at,
        author=author,
        vocabulary_version=vocabulary.version,
        body={"episode_id": episode_id, "episode_type": episode_type,
              "ended_at": ended_at.isoformat()},
        thread_id=episode_id,
        recorded_at=now,
    )
