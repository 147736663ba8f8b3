"""What organisations and référents set: rule overrides, an organisation's coordinator, and the
counts an organisation may see of its alerts (only over at least ten persons).

- An organisation's settings (its rules, coordinator, webhooks, counts) are managed with the
  ``admin`` scope, or ``alerts:manage`` by the organisation's own people and systems.
- A person's rules are set by their référent — the professional the person named référent in
  their consent, whose grant covers the person's alerts — and by nobody else.
A change of rules takes effect at once: the clocks concerned are computed again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.alerts.adapters.orm import clocks
from services.alerts.domain import aggregates
from services.alerts.domain import alerts as life
from services.alerts.domain.rules import OverrideRejected
from services.alerts.handlers.common import (
    PURPOSE,
    AlertsContext,
    Forbidden,
    NotVisible,
    actor_of,
    audit,
    judge,
    overrides_for,
    refuse,
)
from services.alerts.handlers.journey import recompute
from services.alerts.handlers.reading import organisation_of, read_rules
from shared.auth import Principal
from shared.consent.decision import Actor, ConsentState

RECOMPUTE_BATCH = 200


def may_manage(principal: Principal, organisation: str) -> bool:
    return "admin" in principal.scopes or (
        "alerts:manage" in principal.scopes and principal.organisation == organisation)


def require_manager(ctx: AlertsContext, principal: Principal, organisation: str, action: str,
             request_id: str | None) -> None:
    if may_manage(principal, organisation):
        return
    with ctx.uow() as work:
        audit(work, principal, request_id, action=action, crude="U", beneficiary_id=None,
              outcome="deny", reason="other_organisation", categories=())
        work.commit()
    raise Forbidden("Only the organisation itself (or an administrator) manages its settings.")


# -- a person's rules (the référent) --------------------------------------------------------------
def is_referent(state: ConsentState | None, actor: Actor, now: datetime) -> bool:
    """Whether the person named this professional their référent in a grant in force that
    covers their alerts: the person's consent to the référent setting their rules."""
    return state is not None and any(
        grant.referent and grant.names(actor) and grant.active_at(now) and "alerts" in grant.categories
        and grant.purpose == PURPOSE for grant in state.grants)


def set_person_rule(ctx: AlertsContext, principal: Principal, beneficiary_id: str, rule: str,
                    override: dict[str, Any] | None, request_id: str | None) -> dict[str, Any]:
    """Set (or, with None, remove) the person's own parameters for one rule."""
    now = ctx.clock()
    action = "rules.set" if override is not None else "rules.clear"
    with ctx.uow() as work:
        actor = actor_of(principal, work)
        decision = judge(ctx, work, actor, beneficiary_id, now)
        if "alerts" not in decision.permitted:
            refuse(work, principal, request_id, action=action, crude="U", beneficiary_id=beneficiary_id,
                   decision=decision)
        if not is_referent(work.consent_state(beneficiary_id), actor, now):
            audit(work, principal, request_id, action=action, crude="U", beneficiary_id=beneficiary_id,
                  outcome="deny", reason="not_referent")
            work.commit()
            raise Forbidden("Only the person's référent, with the person's consent, sets their rules.")
        work.journey.lock_person(beneficiary_id, now)
        if override is None:
            work.config.clear_override("person", beneficiary_id, rule)
        else:
            organisation = organisation_of(ctx, work, beneficiary_id)
            org_overrides, _ = overrides_for(work, organisation, None)
            cleaned = ctx.rules.check(rule, "person", override, organisation=org_overrides.get(rule))
            work.config.set_override("person", beneficiary_id, rule, cleaned, principal.subject, now)
        recompute(ctx, work, beneficiary_id, now, request_id)
        audit(work, principal, request_id, action=action, crude="U", beneficiary_id=beneficiary_id,
              decision=decision)
        work.commit()
    return read_rules(ctx, principal, beneficiary_id, request_id)


# -- an organisation's rules and coordinator ------------------------------------------------------
def organisation_rules(ctx: AlertsContext, principal: Principal, organisation: str,
                       request_id: str | None) -> dict[str, Any]:
    require_manager(ctx, principal, organisation, "organisation_rules.read", request_id)
    with ctx.uow() as work:
        overrides, _ = overrides_for(work, organisation, None)
        audit(work, principal, request_id, action="organisation_rules.read", crude="R",
              beneficiary_id=None, categories=())
        work.commit()
    return {"organisation": organisation, "rules_version": ctx.rules.version,
            "overrides": overrides,
            "in_force": {rule: ctx.rules.params(rule, overrides.get(rule)).public()
                         for rule in ctx.rules.defaults}}


def set_organisation_rule(ctx: AlertsContext, principal: Principal, organisation: str, rule: str,
                          override: dict[str, Any] | None, request_id: str | None) -> dict[str, Any]:
    require_manager(ctx, principal, organisation, "organisation_rules.set", request_id)
    now = ctx.clock()
    with ctx.uow() as work:
        if override is None:
            work.config.clear_override("organisation", organisation, rule)
        else:
            cleaned = ctx.rules.check(rule, "organisation", override)
            work.config.set_override("organisation", organisation, rule, cleaned, principal.subject, now)
        audit(work, principal, request_id, action="organisation_rules.set", crude="U",
              beneficiary_id=None, categories=())
        work.commit()
    recompute_organisation(ctx, organisation)
    return organisation_rules(ctx, principal, organisation, request_id)


def recompute_organisation(ctx: AlertsContext, organisation: str) -> int:
    """The clocks of every person routed to the organisation, again, a batch per transaction."""
    with ctx.uow() as work:
        persons = sorted(work.session.execute(select(clocks.c.beneficiary_id).where(
            clocks.c.organisation == organisation).distinct()).scalars())
    for start in range(0, len(persons), RECOMPUTE_BATCH):
        now = ctx.clock()
        with ctx.uow() as work:
            for beneficiary_id in persons[start:start + RECOMPUTE_BATCH]:
                work.journey.lock_person(beneficiary_id, now)
                recompute(ctx, work, beneficiary_id, now)
            work.commit()
    return len(persons)


def coordinator(ctx: AlertsContext, principal: Principal, organisation: str,
                request_id: str | None) -> dict[str, Any]:
    require_manager(ctx, principal, organisation, "coordinator.read", request_id)
    with ctx.uow() as work:
        found = work.config.coordinator(organisation)
        audit(work, principal, request_id, action="coordinator.read", crude="R", beneficiary_id=None,
              categories=())
        work.commit()
    return {"organisation": organisation, "coordinator": found}


def set_coordinator(ctx: AlertsContext, principal: Principal, organisation: str, subject: str | None,
                    request_id: str | None) -> dict[str, Any]:
    require_manager(ctx, principal, organisation, "coordinator.set", request_id)
    now = ctx.clock()
    with ctx.uow() as work:
        work.config.set_coordinator(organisation, subject, principal.subject, now)
        audit(work, principal, request_id, action="coordinator.set", crude="U", beneficiary_id=None,
              categories=())
        work.commit()
    return {"organisation": organisation, "coordinator": subject}


# -- counts -----------------------------------------------------------------------------------
def statistics(ctx: AlertsContext, principal: Principal, organisation: str, days: int,
               request_id: str | None) -> dict[str, Any]:
    """How many alerts the organisation has, by rule and state, and how many were raised in the
    last ``days`` days: each figure only when it is about at least ten persons."""
    require_manager(ctx, principal, organisation, "statistics.read", request_id)
    now = ctx.clock()
    since = now - timedelta(days=days)
    with ctx.uow() as work:
        current = {(rule, state): aggregates.Cell(count, persons)
                   for rule, state, count, persons in work.alerts.counts(organisation)}
        raised: dict[str, list[tuple[int, int]]] = {}
        for rule, _state, count, persons in work.alerts.counts(organisation, since=since):
            raised.setdefault(rule, []).append((count, persons))
        unresolved = {}
        recent = {}
        for rule in ctx.rules.defaults:
            cells = {state: cell for (r, state), cell in current.items() if r == rule}
            total = aggregates.Cell(sum(c.alerts for c in cells.values()),
                                    work.alerts.persons(organisation, rule))
            unresolved[rule] = aggregates.row(cells, life.UNRESOLVED, total)
            recent_total = aggregates.Cell(sum(c for c, _ in raised.get(rule, [])),
                                           work.alerts.persons(organisation, rule, since=since))
            recent[rule] = aggregates.shown(recent_total)
        audit(work, principal, request_id, action="statistics.read", crude="R", beneficiary_id=None,
              categories=())
        work.commit()
    return {"organisation": organisation, "minimum_persons": aggregates.MIN_PERSONS,
            "unresolved": unresolved, "raised": {"days": days, "by_rule": recent}}


__all__ = ["NotVisible", "OverrideRejected", "coordinator", "may_manage", "organisation_rules",
           "recompute_organisation", "set_coordinator", "set_organisation_rule", "set_person_rule",
           "statistics"]
