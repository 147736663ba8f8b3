"""A transition — an exit from hospital, psychiatric hospital, prison, the street or a shelter,
or an eviction — with the person's fragility at that moment as coded flags, and its exit
protocol: the services to activate, each with a due date and a status to activate → contacted →
acknowledged | declined (with a coded reason). The protocol is proposed from a configurable
template per transition kind and fragility; the référent edits it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from services.record.domain.entries import Author, Entry, Problems, new_id
from shared.vocabularies import Vocabulary

CATEGORY = "transitions"
FRAGILITY_FLAGS = ("housing", "close_ones", "income", "health_follow_up")
DECLINED = "declined"
# A status that needs a field: (the field, the code list of its values).
ACTIVATION_REQUIRES = {DECLINED: ("reason", "activation_decline_reason")}
ACTIVATION_LIFECYCLE: dict[str, frozenset[str]] = {
    "to_activate": frozenset({"contacted", "acknowledged", "declined"}),
    "contacted": frozenset({"acknowledged", "declined"}),
    "acknowledged": frozenset(),
    "declined": frozenset({"to_activate"}),  # try again, with another organisation perhaps
}


def category_of(vocabulary: Vocabulary, transition_kind: str) -> str:
    return vocabulary["transition_kind"].term(transition_kind).get("category", CATEGORY)


def is_fragile(vocabulary: Vocabulary, fragility: Mapping[str, str]) -> bool:
    return any(
        vocabulary[f"fragility_{flag}"].term(fragility[flag]).get("fragile")
        for flag in FRAGILITY_FLAGS
    )


@dataclass(frozen=True)
class ProposedActivation:
    service_kind: str
    due_days: int


@dataclass(frozen=True)
class ProtocolTemplate:
    transition: str
    when: Mapping[str, frozenset[str]]
    activate: tuple[ProposedActivation, ...]

    def applies(self, transition_kind: str, fragility: Mapping[str, str]) -> bool:
        return transition_kind == self.transition and all(
            fragility.get(flag) in values for flag, values in self.when.items()
        )


@dataclass(frozen=True)
class ProtocolTemplates:
    version: str
    templates: tuple[ProtocolTemplate, ...]

    def propose(self, transition_kind: str, fragility: Mapping[str, str]) -> list[ProposedActivation]:
        """Every applicable template's services, each once, with the shortest delay."""
        chosen: dict[str, int] = {}
        for template in self.templates:
            if template.applies(transition_kind, fragility):
                for item in template.activate:
                    known = chosen.get(item.service_kind)
                    chosen[item.service_kind] = item.due_days if known is None else min(known, item.due_days)
        return [ProposedActivation(kind, days) for kind, days in sorted(chosen.items(), key=lambda kv: (kv[1], kv[0]))]


def parse_templates(raw: Mapping[str, Any], vocabulary: Vocabulary) -> ProtocolTemplates:
    """Check a protocol file against the vocabulary; a bad file stops the service at start."""
    templates = []
    for number, item in enumerate(raw["templates"]):
        where = f"protocol template {number}"
        if item["transition"] not in vocabulary["transition_kind"]:
            raise ValueError(f"{where}: unknown transition {item['transition']!r}")
        when: dict[str, frozenset[str]] = {}
        for flag, values in (item.get("when") or {}).items():
            if flag not in FRAGILITY_FLAGS:
                raise ValueError(f"{where}: unknown fragility flag {flag!r}")
            for value in values:
                if value not in vocabulary[f"fragility_{flag}"]:
                    raise ValueError(f"{where}: {flag} has no value {value!r}")
            when[flag] = frozenset(values)
        activate = []
        for proposal in item["activate"]:
            if proposal["service_kind"] not in vocabulary["service_kind"]:
                raise ValueError(f"{where}: unknown service kind {proposal['service_kind']!r}")
            days = int(proposal["due_days"])
            if not 0 <= days <= 365:
                raise ValueError(f"{where}: due_days must be between 0 and 365")
            activate.append(ProposedActivation(proposal["service_kind"], days))
        templates.append(ProtocolTemplate(item["transition"], when, tuple(activate)))
    return ProtocolTemplates(str(raw["version"]), tuple(templates))


@dataclass(frozen=True)
class ActivationRequest:
    service_kind: str
    organisation: str | None = None
    due_date: date | None = None


def _check_fragility(problems: Problems, vocabulary: Vocabulary, fragility: Mapping[str, str]) -> None:
    for flag in FRAGILITY_FLAGS:
        problems.code(vocabulary, f"fragility_{flag}", f"fragility.{flag}", fragility.get(flag))


def _activation(vocabulary: Vocabulary, beneficiary_id: str, author: Author, *, category: str,
                transition_id: str, service_kind: str, organisation: str | None, due_date: date,
                occurred_at: datetime, now: datetime, activation_id: str | None = None,
                supersedes: str | None = None) -> Entry:
    activation_id = activation_id or new_id()
    return Entry(
        beneficiary_id=beneficiary_id,
        kind="activation",
        category=category,
        occurred_at=occurred_at,
        author=author,
        vocabulary_version=vocabulary.version,
        body={"activation_id": activation_id, "transition_id": transition_id,
              "service_kind": service_kind, "organisation": organisation,
              "due_date": due_date.isoformat(), "status": "to_activate"},
        thread_id=activation_id,
        supersedes=supersedes,
        recorded_at=now,
    )


def record_transition(
    vocabulary: Vocabulary,
    templates: ProtocolTemplates,
    beneficiary_id: str,
    author: Author,
    *,
    transition_kind: str,
    occurred_at: datetime,
    fragility: Mapping[str, str],
    activations: Sequence[ActivationRequest] | None,
    now: datetime,
    transition_id: str | None = None,
    supersedes: str | None = None,
) -> tuple[Entry, list[Entry]]:
    """The transition entry and one entry per service to activate. ``activations`` None means
    "propose them from the template"; an empty list means "no protocol"."""
    problems = Problems()
    problems.past("occurred_at", occurred_at, now)
    problems.code(vocabulary, "transition_kind", "transition_kind", transition_kind)
    _check_fragility(problems, vocabulary, fragility)
    for number, item in enumerate(activations or ()):
        problems.code(vocabulary, "service_kind", f"activations.{number}.service_kind", item.service_kind)
        problems.identifier(f"activations.{number}.organisation", item.organisation)
        if item.due_date is not None and item.due_date < occurred_at.date():
            problems.add(f"activations.{number}.due_date", "Cannot be before the transition.")
    problems.raise_if_any()
    transition_id = transition_id or new_id()
    category = category_of(vocabulary, transition_kind)
    if activations is None:
        requests = [
            ActivationRequest(p.service_kind, None, occurred_at.date() + timedelta(days=p.due_days))
            for p in templates.propose(transition_kind, fragility)
        ]
    else:
        requests = list(activations)
    activation_entries = [
        _activation(vocabulary, beneficiary_id, author, category=category,
                    transition_id=transition_id, service_kind=item.service_kind,
                    organisation=item.organisation,
                    due_date=item.due_date or occurred_at.date() + timedelta(days=7),
                    occurred_at=occurred_at, now=now)
        for item in requests
    ]
    transition = Entry(
        beneficiary_id=beneficiary_id,
        kind="transition",
        category=category,
        occurred_at=occurred_at,
        author=author,
        vocabulary_version=vocabulary.version,
        body={"transition_id": transition_id, "transition_kind": transition_kind,
              "fragility": {flag: fragility[flag] for flag in FRAGILITY_FLAGS},
              "fragile": is_fragile(vocabulary, fragility),
              "protocol_version": templates.version if activations is None else None},
        thread_id=transition_id,
        supersedes=supersedes,
        recorded_at=now,
    )
    return transition, activation_entries


def add_activation(
    vocabulary: Vocabulary,
    beneficiary_id: str,
    author: Author,
    *,
    category: str,
    transition_id: str,
    transition_at: datetime,
    service_kind: str,
    organisation: str | None,
    due_date: date,
    now: datetime,
    activation_id: str | None = None,
    supersedes: str | None = None,
) -> Entry:
    problems = Problems()
    problems.code(vocabulary, "service_kind", "service_kind", service_kind)
    problems.identifier("organisation", organisation)
    if due_date < transition_at.date():
        problems.add("due_date", "Cannot be before the transition.")
    problems.raise_if_any()
    return _activation(vocabulary, beneficiary_id, author, category=category,
                       transition_id=transition_id, service_kind=service_kind,
                       organisation=organisation, due_date=due_date, occurred_at=now, now=now,
                       activation_id=activation_id, supersedes=supersedes)


def change_activation(
    vocabulary: Vocabulary,
    beneficiary_id: str,
    author: Author,
    *,
    category: str,
    activation: Mapping[str, Any],
    current_status: str,
    since: datetime,
    status: str,
    organisation: str | None,
    reason: str | None,
    occurred_at: datetime,
    now: datetime,
) -> Entry:
    problems = Problems()
    problems.past("occurred_at", occurred_at, now)
    if occurred_at < since:
        problems.add("occurred_at", "Cannot be before the activation's last change.")
    problems.code(vocabulary, "activation_status", "status", status)
    if status in ACTIVATION_LIFECYCLE and status not in ACTIVATION_LIFECYCLE[current_status]:
        problems.add("status", f"An activation that is {current_status} cannot become {status}.")
    if status == DECLINED:
        problems.code(vocabulary, "activation_decline_reason", "reason", reason)
    elif reason is not None:
        problems.add("reason", "Only a declined activation has a reason.")
    problems.identifier("organisation", organisation)
    problems.raise_if_any()
    return Entry(
        beneficiary_id=beneficiary_id,
        kind="activation_status",
        category=category,
        occurred_at=occurred_at,
        author=author,
        vocabulary_version=vocabulary.version,
        body={"activation_id": activation["activation_id"],
              "transition_id": activation["transition_id"],
              "service_kind": activation["service_kind"],
              "organisation": organisation or activation.get("organisation"),
              "due_date": activation["due_date"],
              "status": status, "previous_status": current_status, "reason": reason},
        thread_id=activation["activation_id"],
        recorded_at=now,
    )
