"""The profession × category policy: a versioned data file, loaded once, checked against the
vocabularies. A permit needs an active grant AND a policy rule AND no exclusion."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from shared.consent.vocabulary import ACTIONS, CATEGORIES, professions


@dataclass(frozen=True)
class Policy:
    version: str
    # (kind, code, action) -> allowed categories; kind is "profession", "role" or "referent"
    rules: dict[tuple[str, str, str], frozenset[str]]
    registration_defaults: tuple[str, ...]

    def allows(self, kind: str, code: str, action: str, category: str) -> bool:
        allowed = self.rules.get((kind, code, action))
        return allowed is not None and category in allowed

    def reach(self, kind: str, code: str, action: str = "read") -> frozenset[str]:
        return self.rules.get((kind, code, action), frozenset())


def parse_policy(raw: dict[str, Any]) -> Policy:
    rules: dict[tuple[str, str, str], frozenset[str]] = {}
    vocabulary = professions()

    def add(kind: str, code: str, row: dict[str, list[str]]) -> None:
        for action in ACTIONS:
            categories = row.get(action, [])
            unknown = set(categories) - set(CATEGORIES)
            if unknown:
                raise ValueError(f"policy {kind} {code} {action}: unknown categories {sorted(unknown)}")
            rules[(kind, code, action)] = frozenset(categories)

    for code, row in raw["professions"].items():
        if code not in vocabulary:
            raise ValueError(f"policy names an unknown profession {code!r}")
        add("profession", code, row)
    for code, row in raw.get("roles", {}).items():
        add("role", code, row)
    add("referent", "referent", raw.get("referent", {}))
    defaults = tuple(raw.get("registration_defaults", ()))
    if set(defaults) - set(CATEGORIES):
        raise ValueError("registration_defaults names unknown categories")
    return Policy(str(raw["version"]), rules, defaults)


@lru_cache(maxsize=4)
def load_policy(path: str | None = None) -> Policy:
    """The policy shipped with the code, or the file at ``path``."""
    if path:
        text = Path(path).read_text("utf-8")
    else:
        text = resources.files("shared.consent").joinpath("data/policy.json").read_text("utf-8")
    return parse_policy(json.loads(text))
