"""Reading alerts: my inbox, one alert, a person's current alerts, the rules in force for a
person, last seen, the person's own view and close ones' notices. Every read is decided from the
consent projection at the moment of the read and audited in its own transaction.

Only alerts still asking for something are listed; a resolved alert is read only by its id, so
no list ever adds up to a history of a person's absences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.alerts.adapters.alert_store import Alert
from services.alerts.adapters.journey_store import LastSeen
from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.domain import alerts as life
from services.alerts.domain.journey import fold
from services.alerts.domain.rules import RULES
from services.alerts.handlers.common import (
    AlertsContext,
    NotVisible,
    OrganisationParams,
    actor_of,
    audit,
    may_see,
    params_for,
    refuse,
)
from services.alerts.handlers.views import (
    close_one_view,
    decode_cursor,
    encode_cursor,
    own_view,
    professional_view,
)
from shared.auth import Principal
from shared.consent.decision import Actor, Decision


@dataclass(frozen=True)
class AlertQuery:
    states: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    cursor: str | None = None
    limit: int = 50
    language: str = "fr"

    @property
    def wanted_states(self) -> tuple[str, ...]:
        return self.states or life.UNRESOLVED


def views_of(ctx: AlertsContext, work: AlertsUnitOfWork, found: list[Alert], language: str) -> list[dict]:
    recipients = work.alerts.recipients([a.alert_id for a in found])
    params = OrganisationParams(ctx, work)
    return [professional_view(ctx.vocabulary, a, language, escalated_to=recipients.get(a.alert_id, []),
                              params=params(a.organisation, a.rule)) for a in found]


def _audit_per_person(work: AlertsUnitOfWork, principal: Principal, request_id: str | None,
                      action: str, found: Iterable[Alert], decisions: dict[str, Decision]) -> None:
    by_person: dict[str, list[str]] = {}
    for alert in found:
        by_person.setdefault(alert.beneficiary_id, []).append(alert.alert_id)
    for beneficiary_id, ids in by_person.items():
        audit(work, principal, request_id, action=action, crude="R", beneficiary_id=beneficiary_id,
              entry_ids=ids, decision=decisions[beneficiary_id])


def read_inbox(ctx: AlertsContext, principal: Principal, query: AlertQuery,
               request_id: str | None) -> dict[str, Any]:
    """The alerts that reach me: as référent or care-team member of the person, as the one an
    alert was escalated to, or — for an organisation's own system — every alert routed to the
    organisation; each only while my grant covers the person's alerts."""
    now = ctx.clock()
    after = decode_cursor(query.cursor) if query.cursor else None
    with ctx.uow() as work:
        actor = actor_of(principal, work)
        decisions: dict[str, Decision | None] = {}
        shown: list[Alert] = []
        more = False
        while len(shown) < query.limit:
            fetch = (query.limit - len(shown)) * 2 + 1
            if principal.role == "professional":
                page = work.alerts.inbox_of_professional(principal.subject, query.wanted_states,
                                                         query.rules, after, fetch)
            elif principal.role == "system" and principal.organisation:
                page = work.alerts.inbox_of_organisation(principal.organisation, query.wanted_states,
                                                         query.rules, after, fetch)
            else:
                page = []
            for alert in page:
                if alert.beneficiary_id not in decisions:
                    decisions[alert.beneficiary_id] = may_see(ctx, work, actor, alert.beneficiary_id, now)
                if decisions[alert.beneficiary_id] is None:
                    continue
                if len(shown) == query.limit:
                    more = True
                    break
                shown.append(alert)
            if more or len(page) < fetch:
                break
            after = (page[-1].raised_at, page[-1].alert_id)
        permitted = {k: v for k, v in decisions.items() if v is not None}
        _audit_per_person(work, principal, request_id, "inbox.read", shown, permitted)
        items = views_of(ctx, work, shown, query.language)
        work.commit()
    next_cursor = encode_cursor(shown[-1].raised_at, shown[-1].alert_id) if more and shown else None
    return {"items": items, "next_cursor": next_cursor}


def visible_alert(ctx: AlertsContext, work: AlertsUnitOfWork, principal: Principal, alert_id: str,
                   request_id: str | None, action: str, now: datetime, *,
                   for_update: bool = False) -> tuple[Alert, Decision]:
    alert = work.alerts.get(alert_id, for_update=for_update)
    if alert is None:
        refuse(work, principal, request_id, action=action, crude="R", beneficiary_id=None)
    assert alert is not None
    decision = may_see(ctx, work, actor_of(principal, work), alert.beneficiary_id, now)
    if decision is None:
        refuse(work, principal, request_id, action=action, crude="R", beneficiary_id=alert.beneficiary_id)
    assert decision is not None
    return alert, decision


def read_alert(ctx: AlertsContext, principal: Principal, alert_id: str, language: str,
               request_id: str | None) -> dict[str, Any]:
    now = ctx.clock()
    with ctx.uow() as work:
        alert, decision = visible_alert(ctx, work, principal, alert_id, request_id, "alert.read", now)
        audit(work, principal, request_id, action="alert.read", crude="R",
              beneficiary_id=alert.beneficiary_id, entry_ids=[alert.alert_id], decision=decision)
        [view] = views_of(ctx, work, [alert], language)
        work.commit()
    return view


def _person_decision(ctx: AlertsContext, work: AlertsUnitOfWork, principal: Principal,
                     beneficiary_id: str, request_id: str | None, action: str, now: datetime) -> Decision:
    decision = may_see(ctx, work, actor_of(principal, work), beneficiary_id, now)
    if decision is None:
        refuse(work, principal, request_id, action=action, crude="R", beneficiary_id=beneficiary_id)
    assert decision is not None
    return decision


def read_person_alerts(ctx: AlertsContext, principal: Principal, beneficiary_id: str,
                       query: AlertQuery, request_id: str | None) -> dict[str, Any]:
    """The person's alerts still asking for something, for whoever may see the person's alerts."""
    now = ctx.clock()
    after = decode_cursor(query.cursor) if query.cursor else None
    with ctx.uow() as work:
        decision = _person_decision(ctx, work, principal, beneficiary_id, request_id,
                                    "person_alerts.read", now)
        found = work.alerts.of_person(beneficiary_id, query.wanted_states, query.rules, after, query.limit + 1)
        more = len(found) > query.limit
        found = found[:query.limit]
        audit(work, principal, request_id, action="person_alerts.read", crude="R",
              beneficiary_id=beneficiary_id, entry_ids=[a.alert_id for a in found], decision=decision)
        items = views_of(ctx, work, found, query.language)
        work.commit()
    next_cursor = encode_cursor(found[-1].raised_at, found[-1].alert_id) if more and found else None
    return {"beneficiary_id": beneficiary_id, "items": items, "next_cursor": next_cursor}


def read_rules(ctx: AlertsContext, principal: Principal, beneficiary_id: str,
               request_id: str | None) -> dict[str, Any]:
    """The rules in force for a person, each parameter with where it comes from."""
    now = ctx.clock()
    with ctx.uow() as work:
        decision = _person_decision(ctx, work, principal, beneficiary_id, request_id, "rules.read", now)
        organisation = organisation_of(ctx, work, beneficiary_id)
        params = params_for(ctx, work, organisation, beneficiary_id)
        audit(work, principal, request_id, action="rules.read", crude="R",
              beneficiary_id=beneficiary_id, decision=decision)
        work.commit()
    return {"beneficiary_id": beneficiary_id, "organisation": organisation,
            "rules_version": ctx.rules.version,
            "rules": {rule: {**params[rule].public(), "sources": dict(params[rule].sources)}
                      for rule in RULES}}


def organisation_of(ctx: AlertsContext, work: AlertsUnitOfWork, beneficiary_id: str) -> str | None:
    """The organisation the person's alerts are routed to (their référent's, else the one that
    last logged a contact)."""
    return fold(beneficiary_id, work.journey.facts(beneficiary_id), ctx.journey_vocabulary).organisation


def read_last_seen(ctx: AlertsContext, principal: Principal, beneficiary_id: str,
                   request_id: str | None) -> LastSeen:
    now = ctx.clock()
    with ctx.uow() as work:
        decision = _person_decision(ctx, work, principal, beneficiary_id, request_id, "last_seen.read", now)
        found = work.journey.last_seen(beneficiary_id) or LastSeen(beneficiary_id, None, None, None)
        audit(work, principal, request_id, action="last_seen.read", crude="R",
              beneficiary_id=beneficiary_id, decision=decision)
        work.commit()
    return found


def read_own(ctx: AlertsContext, principal: Principal, language: str,
             request_id: str | None) -> dict[str, Any]:
    """The person's own view: that someone was asked to reach out, and whether someone took it
    on. Never a rule, a date of absence, a count or a score."""
    if principal.role != "beneficiary" or not principal.beneficiary:
        raise NotVisible("not a person's own token")
    beneficiary_id = str(principal.beneficiary)
    with ctx.uow() as work:
        found = work.alerts.of_person(beneficiary_id, life.ASKING, (), None, 100)
        audit(work, principal, request_id, action="alerts.read_own", crude="R",
              beneficiary_id=beneficiary_id, entry_ids=[a.alert_id for a in found])
        work.commit()
    return {"items": [own_view(ctx.vocabulary, a, language) for a in found]}


def read_notices(ctx: AlertsContext, principal: Principal, language: str,
                 request_id: str | None) -> dict[str, Any]:
    """A close one's notices: "your contact person has been asked to get in touch", only while
    the person's grant to them covers alerts and the alert still asks."""
    if principal.role != "close_one":
        raise NotVisible("not a close one's token")
    now = ctx.clock()
    with ctx.uow() as work:
        actor = Actor(principal.subject, "close_one")
        items = []
        decisions: dict[str, Decision | None] = {}
        for notice_id, beneficiary_id, at, _state in work.alerts.notices_of(principal.subject, 100):
            if beneficiary_id not in decisions:
                decisions[beneficiary_id] = may_see(ctx, work, actor, beneficiary_id, now)
            decision = decisions[beneficiary_id]
            if decision is None:
                continue
            items.append(close_one_view(ctx.vocabulary, notice_id, at, language))
            audit(work, principal, request_id, action="notice.read", crude="R",
                  beneficiary_id=beneficiary_id, entry_ids=[notice_id], decision=decision)
        work.commit()
    return {"items": items}

