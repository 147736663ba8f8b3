"""What every handler of the alerts service shares: its context, its errors, the parameters in
force for a person, and the one way an access is decided and audited.

Who may see an alert is decided from the local consent projection every time: the reader's
current grant must cover the ``alerts`` category of the person (``shared.consent.decide``), so a
withdrawal hides the alert as soon as the projection applied it. "No such person" and "not
allowed" are one answer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.adapters.webhook_store import SecretBox
from services.alerts.domain.rules import RULES, Params, RuleBook
from services.alerts.settings import AlertsSettings
from shared.audit_trail import Access, Crude, record_access
from shared.auth import Principal
from shared.consent.decision import Actor, Decision, Question, decide
from shared.consent.policy import Policy
from shared.vocabularies import Vocabulary

SERVICE = "alerts"
CATEGORY = "alerts"
PURPOSE = "care_coordination"


class NotVisible(LookupError):
    """No such person or alert, or the caller may not know there is: one answer for all."""


class Forbidden(PermissionError):
    """The caller may not do this (another organisation's settings, not the référent)."""


@dataclass
class AlertsContext:
    vocabulary: Vocabulary  # alerts.json
    journey_vocabulary: Vocabulary  # journey.json
    rules: RuleBook
    policy: Policy
    settings: AlertsSettings
    secrets: SecretBox
    uow_factory: Callable[[], AlertsUnitOfWork]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def uow(self) -> AlertsUnitOfWork:
        return self.uow_factory()


def actor_of(principal: Principal, work: AlertsUnitOfWork) -> Actor:
    return Actor(principal.subject, principal.role, principal.organisation, principal.profession,
                 work.teams_of(principal.subject))


def judge(ctx: AlertsContext, work: AlertsUnitOfWork, actor: Actor, beneficiary_id: str,
          now: datetime, action: str = "read") -> Decision:
    question = Question(beneficiary_id, action, (CATEGORY,), PURPOSE, now)
    return decide(work.consent_state(beneficiary_id), actor, question, ctx.policy)


def may_see(ctx: AlertsContext, work: AlertsUnitOfWork, actor: Actor, beneficiary_id: str,
            now: datetime) -> Decision | None:
    """The permitting decision, or None."""
    decision = judge(ctx, work, actor, beneficiary_id, now)
    return decision if CATEGORY in decision.permitted else None


def audit(work: AlertsUnitOfWork, principal: Principal | None, request_id: str | None, *,
          action: str, crude: Crude, beneficiary_id: str | None, entry_ids: Iterable[str] = (),
          decision: Decision | None = None, outcome: str = "permit", reason: str | None = None,
          categories: Iterable[str] = (CATEGORY,)) -> None:
    grant_id = version = None
    if decision is not None and outcome == "permit":
        for item in decision.categories:
            if item.permitted and item.grant_id:
                grant_id = item.grant_id
                break
        if grant_id is not None:
            state = work.consent_state(decision.beneficiary_id)
            if state is not None:
                version = next((g.version for g in state.grants if g.grant_id == grant_id), None)
    if reason is None and decision is not None and decision.categories:
        reason = decision.categories[0].reason
    record_access(work, principal, Access(
        action=action, crude=crude, beneficiary_id=beneficiary_id, categories=tuple(categories),
        entry_ids=tuple(entry_ids), purpose=PURPOSE, outcome=outcome,  # type: ignore[arg-type]
        reason=reason, consent_grant_id=grant_id, consent_version=version,
    ), service=SERVICE, request_id=request_id)


def refuse(work: AlertsUnitOfWork, principal: Principal, request_id: str | None, *, action: str,
           crude: Crude, beneficiary_id: str | None, decision: Decision | None = None,
           reason: str | None = None) -> None:
    """Audit the refusal, commit it, and raise the one answer for "nothing here"."""
    if decision is not None and reason is None:
        reason = ",".join(sorted({c.reason for c in decision.categories if not c.permitted})) or None
    audit(work, principal, request_id, action=action, crude=crude, beneficiary_id=beneficiary_id,
          outcome="deny", reason=reason or "not_found")
    work.commit()
    raise NotVisible(beneficiary_id or "")


def overrides_for(work: AlertsUnitOfWork, organisation: str | None,
                  beneficiary_id: str | None) -> tuple[dict[str, dict], dict[str, dict]]:
    """The organisation's and the person's overrides, by rule."""
    org = work.config.overrides("organisation", [organisation] if organisation else [])
    person = work.config.overrides("person", [beneficiary_id] if beneficiary_id else [])
    return ({rule: o.params for (_, rule), o in org.items()},
            {rule: o.params for (_, rule), o in person.items()})


def params_for(ctx: AlertsContext, work: AlertsUnitOfWork, organisation: str | None,
               beneficiary_id: str | None) -> dict[str, Params]:
    org, person = overrides_for(work, organisation, beneficiary_id)
    return {rule: ctx.rules.params(rule, org.get(rule), person.get(rule)) for rule in RULES}


class OrganisationParams:
    """Parameters by organisation (no person override), cached for one batch of the scan."""

    def __init__(self, ctx: AlertsContext, work: AlertsUnitOfWork) -> None:
        self.ctx = ctx
        self.work = work
        self._cache: dict[str | None, dict[str, Params]] = {}

    def __call__(self, organisation: str | None, rule: str) -> Params:
        if organisation not in self._cache:
            self._cache[organisation] = params_for(self.ctx, self.work, organisation, None)
        return self._cache[organisation][rule]
