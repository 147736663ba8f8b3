"""The periodic scan: raise what is due, escalate what nobody acknowledged, wake snoozes.

It reads only due rows, through the partial indexes on ``clocks.next_at`` and ``alerts.next_at``
(never the whole population), in batches, each batch one transaction: rows are claimed with
``SELECT … FOR UPDATE SKIP LOCKED``, so several scanners share the work; the alert of a period
has an id derived from the person, rule, watched thing and period and is inserted with
``ON CONFLICT``, and its events are written only for rows the insert actually made or opened.
So two scanners at once, or a scan started again after a crash half-way, raise each alert once
and lose none: a batch that did not commit is simply due again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from services.alerts.adapters.clock_store import RAISED, WARNED, ClockRow
from services.alerts.adapters.orm import projection
from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.domain import alerts as life
from services.alerts.domain.clocks import alert_id as notice_key
from services.alerts.handlers.common import CATEGORY, PURPOSE, AlertsContext, OrganisationParams
from services.alerts.handlers.journey import facts_of
from services.alerts.handlers.publishing import AlertFacts, Publisher
from shared.alerting import events
from shared.consent.decision import Actor, Question, decide

BatchHook = Callable[[AlertsUnitOfWork, int], None]


@dataclass
class ScanReport:
    warned: int = 0
    opened: int = 0
    escalated: int = 0
    woke: int = 0
    notices: int = 0
    batches: int = 0


def _facts(row: ClockRow) -> AlertFacts:
    return AlertFacts(row.alert_id, row.beneficiary_id, row.rule, row.subject_id, row.organisation)


def raise_due(ctx: AlertsContext, now: datetime, *, batch: int | None = None,
              after_batch: BatchHook | None = None, report: ScanReport | None = None) -> ScanReport:
    """Warn and raise every clock due at ``now``, batch after batch, until none is left."""
    report = report or ScanReport()
    size = batch or ctx.settings.scan_batch
    automatic = life.automatic_reasons(ctx.vocabulary)
    while True:
        with ctx.uow() as work:
            rows = work.clocks.claim_due(now, size)
            if not rows:
                return report
            params = OrganisationParams(ctx, work)
            to_raise = [r for r in rows if r.due_at is not None and r.due_at <= now]
            to_warn = [r for r in rows if r.due_at is not None and r.due_at > now]
            opened = set(work.alerts.open_many(
                to_raise, [life.first_escalation(params(r.organisation, r.rule), now) for r in to_raise],
                now, automatic))
            warned = set(work.alerts.warn_many(to_warn, now))
            work.clocks.fired(RAISED, to_raise, now)
            work.clocks.fired(WARNED, to_warn, now)
            publisher = Publisher(work, now)
            for r in to_raise:
                if r.alert_id in opened:
                    publisher.add(events.ALERT_OPENED, _facts(r), life.OPEN,
                                  {"due_at": r.due_at.isoformat() if r.due_at else None})
            for r in to_warn:
                if r.alert_id in warned:
                    publisher.add(events.ALERT_WARNED, _facts(r), life.WARNING,
                                  {"due_at": r.due_at.isoformat() if r.due_at else None})
            report.notices += _close_one_notices(ctx, work, publisher,
                                                 [r for r in to_raise if r.alert_id in opened
                                                  and r.rule == "not_seen"], now)
            publisher.flush()
            report.opened += len(opened)
            report.warned += len(warned)
            report.batches += 1
            if after_batch is not None:
                after_batch(work, report.batches)
            work.commit()


def _close_one_notices(ctx: AlertsContext, work: AlertsUnitOfWork, publisher: Publisher,
                       rows: list[ClockRow], now: datetime) -> int:
    """Close ones the person chose (a grant covering alerts) get a notice that holds no record
    data: "your contact person has been asked to get in touch"."""
    if not rows:
        return 0
    g = projection.grants.c
    by_person = {r.beneficiary_id: r for r in rows}
    found = work.session.execute(select(g.beneficiary_id, g.grantee).where(
        g.beneficiary_id.in_(sorted(by_person)), g.grantee_kind == "close_one", g.active.is_(True)))
    notices = []
    for beneficiary_id, close_one in sorted(set(found.all())):
        question = Question(beneficiary_id, "read", (CATEGORY,), PURPOSE, now)
        decision = decide(work.consent_state(beneficiary_id), Actor(close_one, "close_one"), question,
                          ctx.policy)
        if CATEGORY not in decision.permitted:
            continue
        row = by_person[beneficiary_id]
        notices.append({"notice_id": notice_key(beneficiary_id, "close_one_notice", close_one, row.alert_id),
                        "alert_id": row.alert_id, "beneficiary_id": beneficiary_id,
                        "close_one": close_one, "created_at": now})
    made = set(work.alerts.add_notices(notices))
    for notice in notices:
        if notice["notice_id"] in made:
            publisher.add(events.CLOSE_ONE_NOTICE, _facts(by_person[notice["beneficiary_id"]]),
                          life.OPEN, {"close_one": notice["close_one"], "notice_id": notice["notice_id"]})
    return len(made)


def escalate_due(ctx: AlertsContext, now: datetime, *, batch: int | None = None,
                 report: ScanReport | None = None) -> ScanReport:
    """Escalate the open alerts nobody acknowledged in time; end the snoozes that are over."""
    report = report or ScanReport()
    size = batch or ctx.settings.scan_batch
    while True:
        with ctx.uow() as work:
            due = work.alerts.claim_next(now, size)
            if not due:
                return report
            params = OrganisationParams(ctx, work)
            publisher = Publisher(work, now)
            for alert in due:
                rule_params = params(alert.organisation, alert.rule)
                if alert.state == life.SNOOZED:
                    change = life.wake(alert.row, rule_params, now=now)
                    work.alerts.change(alert.alert_id, change.values)
                    publisher.add(change.event_type, facts_of(alert), change.values["state"])
                    report.woke += 1
                elif alert.state in (life.OPEN, life.ESCALATED):
                    step = life.escalate(alert.row, rule_params,
                                         coordinator=work.config.coordinator(alert.organisation), now=now)
                    if step.change is None:
                        work.alerts.change(alert.alert_id, {"next_at": None, "level": step.level})
                        continue
                    work.alerts.change(alert.alert_id, step.change.values)
                    if step.recipient is not None:
                        work.alerts.add_recipient(alert.alert_id, step.recipient, step.target, step.level, now)
                    publisher.add(step.change.event_type, facts_of(alert), life.ESCALATED,
                                  dict(step.change.extra))
                    report.escalated += 1
                else:
                    work.alerts.change(alert.alert_id, {"next_at": None})
            publisher.flush()
            report.batches += 1
            work.commit()


def scan(ctx: AlertsContext, now: datetime | None = None, *,
         after_batch: BatchHook | None = None) -> ScanReport:
    """One pass of the periodic scan."""
    at = now or ctx.clock()
    report = raise_due(ctx, at, after_batch=after_batch)
    return escalate_due(ctx, at, report=report)


def purge(ctx: AlertsContext, now: datetime | None = None) -> int:
    """Resolved alerts past the retention go (data minimisation)."""
    at = now or ctx.clock()
    with ctx.uow() as work:
        removed = work.alerts.purge_resolved(at - timedelta(days=ctx.settings.resolved_retention_days))
        work.commit()
    return removed
