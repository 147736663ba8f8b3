"""Following the journey: each ``record.*`` event updates the person's facts, then the person's
clocks are computed again from all their current facts (so a void or a correction is handled
like any other change), the alerts whose period ended are resolved, and last seen and the
followers are kept. Raising is left to the scan: an event never raises an alert itself."""

from __future__ import annotations

from datetime import datetime

from services.alerts.adapters.alert_store import Alert
from services.alerts.adapters.clock_store import RAISE, WARN, ClockRow, due_row
from services.alerts.adapters.journey_store import LastSeen
from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.domain import alerts as life
from services.alerts.domain.clocks import Clock, clocks_of, ending_reason
from services.alerts.domain.journey import FactChange, JourneyView, change_of, fold
from services.alerts.handlers.common import AlertsContext, params_for
from services.alerts.handlers.publishing import AlertFacts, Publisher
from shared.journey import events as journey_events


def journey_event(ctx: AlertsContext, work: AlertsUnitOfWork, event_type: str, payload: dict,
                  recorded_at: datetime, correlation_id: str | None, now: datetime) -> None:
    """One ``record.*`` event. Events that are not about the journey are ignored."""
    if not journey_events.is_journey_event(event_type):
        return
    data = journey_events.load(event_type, payload)
    change = change_of(event_type, data, recorded_at)
    if change.erase:
        forget_person(work, change.beneficiary_id)
        return
    apply_change(ctx, work, change, now, correlation_id)


def apply_change(ctx: AlertsContext, work: AlertsUnitOfWork, change: FactChange, now: datetime,
                 correlation_id: str | None = None) -> None:
    person = change.beneficiary_id
    work.journey.lock_person(person, now)
    work.journey.add_facts(change.add)
    if change.replace:
        work.journey.mark_replaced(person, change.replace, now)
    recompute(ctx, work, person, now, correlation_id)


def _next_step(clock: Clock, found: tuple[str, str | None] | None,
               automatic: frozenset[str]) -> str | None:
    """What the scan has still to do for a clock's period, from the period's alert if it exists:
    warn then raise, raise, or nothing (raised already, or the clock is paused)."""
    if clock.paused or clock.due_at is None:
        return None
    if found is not None:
        state, resolution = found
        if state == life.WARNING:
            return RAISE
        if not (state == life.RESOLVED and resolution in automatic):
            return None  # raised; resolved by hand stays resolved for the period
        # Resolved because the period seemed over, and it is back: it may open again.
    return WARN if clock.warn_at is not None else RAISE


def _same(row: ClockRow, clock: Clock, organisation: str | None) -> bool:
    return (row.period, row.anchor_at, row.variant, row.warn_at, row.due_at, row.organisation) == (
        clock.period, clock.anchor_at, clock.variant, clock.warn_at, clock.due_at, organisation)


def recompute(ctx: AlertsContext, work: AlertsUnitOfWork, beneficiary_id: str, now: datetime,
              correlation_id: str | None = None) -> JourneyView:
    """The person's clocks, schedule, alerts, last seen and followers, from their current
    facts. The caller holds the person's lock (``JourneyStore.lock_person``). Locks are taken
    clocks, then schedule, then alerts — the scan takes schedule then alerts — so the two never
    wait on each other in a circle."""
    view = fold(beneficiary_id, work.journey.facts(beneficiary_id), ctx.journey_vocabulary)
    organisation = view.organisation
    params = params_for(ctx, work, organisation, beneficiary_id)
    desired = clocks_of(view, params, ctx.journey_vocabulary, ctx.settings.time_zone)
    existing = work.clocks.of_person(beneficiary_id, for_update=True)
    scheduled = work.clocks.due_of_person(beneficiary_id, for_update=True)
    automatic = life.automatic_reasons(ctx.vocabulary)
    states = work.alerts.states([c.alert_id for c in desired.values()])
    for key, clock in desired.items():
        old = existing.get(key)
        if old is None or not _same(old, clock, organisation):
            work.clocks.put(clock, organisation=organisation, exists=old is not None, now=now)
        step = _next_step(clock, states.get(clock.alert_id), automatic)
        current = scheduled.get(clock.clock_id)
        if step is None:
            if current is not None:
                work.clocks.unschedule([clock.clock_id])
        else:
            wanted = due_row(clock, organisation, step)
            if current != wanted:
                work.clocks.schedule(wanted, exists=current is not None)
    work.clocks.remove(old.clock_id for key, old in existing.items() if key not in desired)
    current_alerts = {c.alert_id for c in desired.values()}
    publisher = Publisher(work, now, correlation_id)
    for alert in work.alerts.unresolved_of(beneficiary_id, for_update=True):
        if alert.alert_id in current_alerts:
            if alert.organisation != organisation:
                work.alerts.change(alert.alert_id, {"organisation": organisation, "changed_at": now})
            continue
        _end(ctx, work, publisher, alert, desired.get((alert.rule, alert.subject_id)), view,
             params[alert.rule].enabled, now)
    publisher.flush()
    work.journey.save_last_seen(LastSeen(
        beneficiary_id, view.last_met.occurred_at if view.last_met else None,
        view.last_met.entry_id if view.last_met else None,
        view.last_attempt.occurred_at if view.last_attempt else None), now)
    work.journey.save_followers(beneficiary_id, view.followers)
    return view


def _end(ctx: AlertsContext, work: AlertsUnitOfWork, publisher: Publisher, alert: Alert,
         new: Clock | None, view: JourneyView, enabled: bool, now: datetime) -> None:
    reason = ending_reason(alert.rule, alert.subject_id, alert.anchor_at, new, view, rule_enabled=enabled)
    change = life.resolve(alert.row, ctx.vocabulary, reason=reason, by=None, now=now, automatic=True)
    work.alerts.change(alert.alert_id, change.values)
    publisher.add(change.event_type, facts_of(alert), life.RESOLVED, dict(change.extra))


def facts_of(alert: Alert) -> AlertFacts:
    return AlertFacts(alert.alert_id, alert.beneficiary_id, alert.rule, alert.subject_id, alert.organisation)


def forget_person(work: AlertsUnitOfWork, beneficiary_id: str) -> None:
    """Erasure: everything this service keeps about the person goes (no event: the record
    service forgets its open-alert count of the person on the same erasure)."""
    work.alerts.forget(beneficiary_id)
    work.clocks.forget(beneficiary_id)
    work.journey.forget(beneficiary_id)
    work.config.forget_person(beneficiary_id)
    work.webhooks.forget_person(beneficiary_id)

