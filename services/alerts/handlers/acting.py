"""Handling an alert: acknowledge it (with a coded reason, and the date the person was last seen
if known), resolve it by hand (with a coded reason), snooze it (within its rule's limit). Whoever
may see the person's alerts may handle them; each action is decided, applied, told (``alert.*``)
and audited in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from services.alerts.adapters.alert_store import Alert
from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.domain import alerts as life
from services.alerts.handlers.common import AlertsContext, OrganisationParams, audit
from services.alerts.handlers.journey import facts_of
from services.alerts.handlers.publishing import Publisher
from services.alerts.handlers.reading import views_of, visible_alert
from shared.auth import Principal


def _act(ctx: AlertsContext, principal: Principal, alert_id: str, request_id: str | None,
         action: str, decide_change: Callable[[AlertsUnitOfWork, Alert, datetime], life.Change],
         language: str) -> dict[str, Any]:
    now = ctx.clock()
    with ctx.uow() as work:
        alert, decision = visible_alert(ctx, work, principal, alert_id, request_id, action, now,
                                         for_update=True)
        try:
            change = decide_change(work, alert, now)
        except life.NotNow:
            audit(work, principal, request_id, action=action, crude="U",
                  beneficiary_id=alert.beneficiary_id, entry_ids=[alert_id], outcome="deny",
                  reason="not_now")
            work.commit()
            raise
        work.alerts.change(alert_id, change.values)
        publisher = Publisher(work, now, request_id)
        publisher.add(change.event_type, facts_of(alert), str(change.values["state"]), dict(change.extra))
        publisher.flush()
        audit(work, principal, request_id, action=action, crude="U", beneficiary_id=alert.beneficiary_id,
              entry_ids=[alert_id], decision=decision)
        updated = work.alerts.get(alert_id)
        assert updated is not None
        [view] = views_of(ctx, work, [updated], language)
        work.commit()
    return view


def acknowledge(ctx: AlertsContext, principal: Principal, alert_id: str, *, reason: str,
                last_seen_on: date | None, language: str, request_id: str | None) -> dict[str, Any]:
    def change(_work: AlertsUnitOfWork, alert: Alert, now: datetime) -> life.Change:
        return life.acknowledge(alert.row, ctx.vocabulary, reason=reason, last_seen_on=last_seen_on,
                                by=principal.subject, now=now)

    return _act(ctx, principal, alert_id, request_id, "alert.acknowledge", change, language)


def resolve(ctx: AlertsContext, principal: Principal, alert_id: str, *, reason: str, language: str,
            request_id: str | None) -> dict[str, Any]:
    def change(_work: AlertsUnitOfWork, alert: Alert, now: datetime) -> life.Change:
        return life.resolve(alert.row, ctx.vocabulary, reason=reason, by=principal.subject, now=now)

    return _act(ctx, principal, alert_id, request_id, "alert.resolve", change, language)


def snooze(ctx: AlertsContext, principal: Principal, alert_id: str, *, days: int, language: str,
           request_id: str | None) -> dict[str, Any]:
    def change(work: AlertsUnitOfWork, alert: Alert, now: datetime) -> life.Change:
        params = OrganisationParams(ctx, work)(alert.organisation, alert.rule)
        return life.snooze(alert.row, params, days=days, now=now)

    return _act(ctx, principal, alert_id, request_id, "alert.snooze", change, language)
