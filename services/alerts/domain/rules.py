"""The alert rules: a versioned data file of defaults, overridden per organisation and, for one
person, by their référent with the person's consent. This module parses the file, checks an
override and merges the three levels into the parameters in force (``Params``).

What an override may change is a closed list per rule and per level (a person's référent sets
the person's clock, an organisation also sets how its alerts escalate). Every value is bounded
by the file's ``limits``; a combination that makes no sense (a warning after the alert) is
refused, naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RULES: tuple[str, ...] = ("not_seen", "activation_overdue", "step_stalled")
LEVELS: tuple[str, ...] = ("organisation", "person")
ESCALATION_TARGETS = ("care_team", "coordinator")
PROFESSIONAL_TARGET = re.compile(r"^professional:[A-Za-z0-9][A-Za-z0-9._:@-]{0,119}$")

# What each level may set, per rule.
PERSON_FIELDS: Mapping[str, frozenset[str]] = {
    "not_seen": frozenset({"enabled", "days", "warning_days", "short_days"}),
    "activation_overdue": frozenset({"enabled", "grace_days", "warning_days"}),
    "step_stalled": frozenset({"enabled", "warning_days"}),
}
ORGANISATION_FIELDS: Mapping[str, frozenset[str]] = {
    rule: fields | {"escalate_after_days", "escalate_to"} for rule, fields in PERSON_FIELDS.items()
}


class OverrideRejected(ValueError):
    """An override that cannot be applied; ``errors`` names each field."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))


@dataclass(frozen=True)
class Params:
    """The parameters of one rule in force for one person (or one organisation)."""

    rule: str
    enabled: bool
    warning_days: int
    escalate_after_days: int
    escalate_to: tuple[str, ...]
    snooze_max_days: int
    snooze_max_times: int
    days: int = 0  # not_seen
    short_days: int = 0  # not_seen, after a fragile exit
    short_transition_kinds: frozenset[str] = frozenset()
    short_when_any: Mapping[str, frozenset[str]] | None = None
    grace_days: int = 0  # activation_overdue
    stall_days: Mapping[str, int] = field(default_factory=dict)  # step_stalled, per step kind
    sources: Mapping[str, str] = field(default_factory=dict)  # field -> default | organisation | person

    def public(self) -> dict[str, Any]:
        """What the API shows of the parameters in force, with where each comes from."""
        shown: dict[str, Any] = {"enabled": self.enabled, "warning_days": self.warning_days,
                                 "escalate_after_days": self.escalate_after_days,
                                 "escalate_to": list(self.escalate_to),
                                 "snooze_max_days": self.snooze_max_days,
                                 "snooze_max_times": self.snooze_max_times}
        if self.rule == "not_seen":
            shown.update(days=self.days, short_days=self.short_days,
                         short_clock_after=sorted(self.short_transition_kinds))
        elif self.rule == "activation_overdue":
            shown.update(grace_days=self.grace_days)
        else:
            shown.update(stall_days=dict(sorted(self.stall_days.items())))
        return shown


@dataclass(frozen=True)
class RuleBook:
    version: str
    defaults: Mapping[str, Params]
    limits: Mapping[str, tuple[int, int]]

    def params(self, rule: str, organisation: Mapping[str, Any] | None = None,
               person: Mapping[str, Any] | None = None) -> Params:
        """The defaults, then the organisation's override, then the person's."""
        base = self.defaults[rule]
        values: dict[str, Any] = {}
        sources = {name: "default" for name in ORGANISATION_FIELDS[rule]}
        for level, override in (("organisation", organisation), ("person", person)):
            for name, value in (override or {}).items():
                values[name] = tuple(value) if name == "escalate_to" else value
                sources[name] = level
        return _replace(base, values, sources)

    def check(self, rule: str, level: str, override: Mapping[str, Any],
              organisation: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The override, cleaned, or OverrideRejected naming each bad field. A person's
        override is checked merged with their organisation's."""
        if rule not in self.defaults:
            raise OverrideRejected([("rule", f"Not a rule: one of {', '.join(RULES)}.")])
        allowed = (PERSON_FIELDS if level == "person" else ORGANISATION_FIELDS)[rule]
        errors: list[tuple[str, str]] = []
        cleaned: dict[str, Any] = {}
        for name, value in override.items():
            if name not in allowed:
                errors.append((name, f"Not something a {level} can set for {rule}."))
                continue
            if name == "enabled":
                if not isinstance(value, bool):
                    errors.append((name, "true or false."))
                    continue
            elif name == "escalate_to":
                if not isinstance(value, list) or not 1 <= len(value) <= 5 or not all(
                        isinstance(v, str) and (v in ESCALATION_TARGETS or PROFESSIONAL_TARGET.match(v))
                        for v in value):
                    errors.append((name, "A list of 1 to 5 of: care_team, coordinator, "
                                         "professional:<account id>."))
                    continue
            else:
                low, high = self.limits[name.replace("escalate_", "")]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    errors.append((name, f"A whole number of days from {low} to {high}."))
                    continue
            cleaned[name] = value
        if not cleaned and not errors:
            errors.append(("(body)", f"Set at least one of: {', '.join(sorted(allowed))}."))
        if not errors:
            merged = self.params(rule, organisation if level == "person" else cleaned,
                                 cleaned if level == "person" else None)
            errors.extend(_coherence(merged, cleaned))
        if errors:
            raise OverrideRejected(errors)
        return cleaned


def _coherence(params: Params, changed: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = []
    if params.rule == "not_seen":
        if params.warning_days >= params.days:
            errors.append(("warning_days" if "warning_days" in changed else "days",
                           "The warning must come before the alert (fewer days than days)."))
        if params.short_days > params.days:
            errors.append(("short_days" if "short_days" in changed else "days",
                           "The clock after a fragile exit cannot be longer than the usual one."))
    return errors


def _replace(base: Params, values: Mapping[str, Any], sources: Mapping[str, str]) -> Params:
    from dataclasses import replace

    return replace(base, **values, sources=dict(sources))


def parse_rule_book(raw: Mapping[str, Any], step_kinds: Mapping[str, int]) -> RuleBook:
    """The rules file; ``step_kinds`` gives each step kind's stall interval from the journey
    vocabulary, which ``step_stalled.stall_days`` may override per kind."""
    rules = raw["rules"]
    missing = set(RULES) - set(rules)
    if missing:
        raise ValueError(f"the rules file lacks {sorted(missing)}")
    limits = {name: (int(low), int(high)) for name, (low, high) in raw["limits"].items()}
    defaults: dict[str, Params] = {}
    for rule in RULES:
        body = rules[rule]
        escalation = body["escalation"]
        snooze = body["snooze"]
        common: dict[str, Any] = {
            "rule": rule, "enabled": bool(body["enabled"]),
            "warning_days": int(body.get("warning_days", 0)),
            "escalate_after_days": int(escalation["after_days"]),
            "escalate_to": tuple(escalation["to"]),
            "snooze_max_days": int(snooze["max_days"]), "snooze_max_times": int(snooze["max_times"]),
        }
        for target in common["escalate_to"]:
            if target not in ESCALATION_TARGETS and not PROFESSIONAL_TARGET.match(target):
                raise ValueError(f"{rule}: unknown escalation target {target!r}")
        if rule == "not_seen":
            short = body["short_clock"]
            when = short.get("when_any")
            common.update(
                days=int(body["days"]), short_days=int(short["days"]),
                short_transition_kinds=frozenset(short["transition_kinds"]),
                short_when_any=None if when is None else {k: frozenset(v) for k, v in when.items()})
        elif rule == "activation_overdue":
            common.update(grace_days=int(body.get("grace_days", 0)))
        else:
            stall = dict(step_kinds)
            stall.update({k: int(v) for k, v in body.get("stall_days", {}).items()})
            common.update(stall_days=stall)
        defaults[rule] = Params(**common)
        errors = _coherence(defaults[rule], {})
        if errors:
            raise ValueError(f"the rules file: {rule}: {errors}")
    return RuleBook(str(raw["version"]), defaults, limits)
