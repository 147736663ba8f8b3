"""The fixed codes every service shares: data categories, purposes, actions, grantee kinds,
and the profession vocabulary (a versioned data file with French, Dutch and English labels)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

CATEGORIES: tuple[str, ...] = (
    "identity",
    "contacts",
    "steps",
    "episodes",
    "mental_health_episodes",
    "transitions",
    "alerts",
    "referent",
)
PURPOSES: tuple[str, ...] = ("care_coordination", "emergency")
ACTIONS: tuple[str, ...] = ("read", "write")
GRANTEE_KINDS: tuple[str, ...] = ("organisation", "professional", "care_team", "close_one")
EXCLUSION_KINDS: tuple[str, ...] = ("professional", "organisation")
LANGUAGES: tuple[str, ...] = ("fr", "nl", "en")


@dataclass(frozen=True)
class Profession:
    code: str
    labels: dict[str, str]
    mental_health: bool


@dataclass(frozen=True)
class ProfessionVocabulary:
    version: str
    professions: dict[str, Profession]

    def __contains__(self, code: object) -> bool:
        return code in self.professions

    def label(self, code: str, language: str) -> str:
        profession = self.professions.get(code)
        if profession is None:
            return code
        return profession.labels.get(language) or profession.labels["en"]


@lru_cache(maxsize=1)
def professions() -> ProfessionVocabulary:
    raw = json.loads(
        resources.files("shared.consent").joinpath("data/professions.json").read_text("utf-8")
    )
    entries = {
        item["code"]: Profession(item["code"], dict(item["labels"]), bool(item.get("mental_health")))
        for item in raw["professions"]
    }
    for entry in entries.values():
        missing = set(LANGUAGES) - set(entry.labels)
        if missing:
            raise ValueError(f"profession {entry.code} lacks labels {sorted(missing)}")
    return ProfessionVocabulary(raw["version"], entries)
