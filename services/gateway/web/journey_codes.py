"""The journey's code lists as the record service publishes them (``GET /vocabularies``), in
the page's language: every choice a page offers (modalities, outcomes, step kinds, statuses,
blockers, transitions, fragility, services, reasons) and where a status may go next come from
there, never from a copy in the pages. Kept per process for a few minutes per language."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app

from services.gateway.web import service_calls
from services.gateway.web.i18n import current_language

KEEP_SECONDS = 300.0
FRAGILITY_PREFIX = "fragility_"
_lock = threading.Lock()


@dataclass(frozen=True)
class JourneyCodes:
    language: str
    version: str
    lists: dict[str, list[dict[str, Any]]]
    lifecycles: dict[str, dict[str, Any]]

    def offered(self, name: str) -> list[dict[str, Any]]:
        """The codes of a list that new entries may use (retired ones only still read)."""
        return [item for item in self.lists.get(name, []) if not item.get("retired")]

    def codes(self, name: str) -> list[str]:
        return [item["code"] for item in self.offered(name)]

    def label(self, name: str, code: str | None) -> str:
        if not code:
            return ""
        for item in self.lists.get(name, []):
            if item["code"] == code:
                return item["label"]
        return code

    def attribute(self, name: str, code: str | None, attribute: str, default: Any = None) -> Any:
        for item in self.lists.get(name, []):
            if item["code"] == code:
                return item.get(attribute, default)
        return default

    def with_attribute(self, name: str, attribute: str, value: Any = True) -> list[str]:
        return [item["code"] for item in self.offered(name) if item.get(attribute) == value]

    def fragility_flags(self) -> list[str]:
        """The fragility flags of a transition: one list ``fragility_<flag>`` each."""
        return [name[len(FRAGILITY_PREFIX):] for name in self.lists if name.startswith(FRAGILITY_PREFIX)]

    def initial(self, cycle: str) -> list[str]:
        return list(self.lifecycles.get(cycle, {}).get("initial", []))

    def requirement(self, cycle: str, status: str | None) -> dict[str, str] | None:
        """The field a status needs, and the code list of its values (a blocked step needs a
        blocker): ``{"field": ..., "list": ...}``, or None."""
        return self.lifecycles.get(cycle, {}).get("requires", {}).get(status or "")

    def status_requiring(self, cycle: str, field: str) -> str | None:
        for status, need in self.lifecycles.get(cycle, {}).get("requires", {}).items():
            if need.get("field") == field:
                return status
        return None

    def next_statuses(self, cycle: str, status: str) -> list[str]:
        """Where a status may go next, in the order of the code list."""
        allowed = set(self.lifecycles.get(cycle, {}).get("next", {}).get(status, []))
        return [code for code in self.codes(cycle) if code in allowed]


def journey_codes(language: str | None = None) -> JourneyCodes:
    language = language or current_language()
    cache: dict[str, tuple[float, JourneyCodes]] = current_app.extensions.setdefault("relais.journey_codes", {})
    now = time.monotonic()
    with _lock:
        kept = cache.get(language)
        if kept is not None and now - kept[0] < KEEP_SECONDS:
            return kept[1]
    document = service_calls.get("record", "/vocabularies")
    codes = JourneyCodes(language=document.get("language", language), version=document["version"],
                         lists=document["lists"], lifecycles=document.get("lifecycles", {}))
    with _lock:
        cache[language] = (now, codes)
    return codes
