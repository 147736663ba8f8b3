"""The code lists the services publish (``GET /vocabularies`` of the record and the alerts
services), in the page's language: every choice a page offers (modalities, outcomes, step
kinds, statuses, blockers, transitions, fragility, services, reasons) and where a status may go
next come from there, never from a copy in the pages. Kept per process for a few minutes per
service and language."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from services.gateway.web import service_calls
from services.gateway.web.i18n import current_language

KEEP_SECONDS = 300.0
FRAGILITY_PREFIX = "fragility_"
_lock = threading.Lock()


@dataclass(frozen=True)
class PublishedCodes:
    language: str
    version: str
    lists: dict[str, list[dict[str, Any]]]

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

    def offered_with(self, name: str, attribute: str, value: Any) -> list[dict[str, Any]]:
        """The offered codes whose attribute has this value (absent counts as False)."""
        return [item for item in self.offered(name) if item.get(attribute, False) == value]


@dataclass(frozen=True)
class JourneyCodes(PublishedCodes):
    lifecycles: dict[str, dict[str, Any]] = field(default_factory=dict)

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


@dataclass(frozen=True)
class AlertCodes(PublishedCodes):
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def snooze_days(self, rule: str) -> int:
        """The longest snooze the default rule allows (an organisation may allow less; the
        service says so when it refuses)."""
        return int(self.rules.get(rule, {}).get("snooze_max_days", 0) or 0)


def _document(service: str) -> dict[str, Any]:
    language = current_language()
    cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = current_app.extensions.setdefault(
        "relais.published_codes", {})
    now = time.monotonic()
    with _lock:
        kept = cache.get((service, language))
        if kept is not None and now - kept[0] < KEEP_SECONDS:
            return kept[1]
    document = service_calls.get(service, "/vocabularies")
    with _lock:
        cache[(service, language)] = (now, document)
    return document


def journey_codes() -> JourneyCodes:
    document = _document("record")
    return JourneyCodes(language=document.get("language", ""), version=document["version"],
                        lists=document["lists"], lifecycles=document.get("lifecycles", {}))


def alert_codes() -> AlertCodes:
    document = _document("alerts")
    return AlertCodes(language=document.get("language", ""), version=document.get("version", ""),
                      lists=document["lists"], rules=(document.get("rules") or {}).get("defaults", {}))
