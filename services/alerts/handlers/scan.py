"""The periodic scan: raise what is due, escalate what nobody acknowledged, wake snoozes.

It reads only due rows, through the indexes on ``clock_due.next_at`` and ``alerts.next_at``
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

from services.alerts.adapters.orm import projection
from services.alerts.adapters.raising import Escalations, Raised, raise_and_tell, raise_batch
from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.domain import alerts as life
from services.alerts.domain.clocks import alert_id as notice_key
from services.alerts.domain.rules import Params
from services.alerts.handlers.common import CATEGORY, PURPOSE, AlertsContext, OrganisationParams
from services.alerts.handlers.journey import facts_of
from services.alerts.handlers.publishing import AlertFacts, Publisher
from shared.alerting import events
from shared.consent.decision import Actor, Question, decide
from shared.db.statements import among

BatchHook = Callable[[AlertsUnitOfWork, int], None]


@dataclass
class ScanReport:
    warned: int = 0
    opened: int = 0
    escalated: int = 0
    woke: int = 0
    notices: int = 0
    batches: int = 0


def _facts(row: Raised) -> AlertFacts:
    return AlertFacts(row.alert_id, row.beneficiary_id, row.rule, row.subject_id, row.organisation)


def escalations(ctx: AlertsContext, work: AlertsUnitOfWork) -> Escalations:
    """When a newly open alert first escalates, by rule and organisation."""
    def days(params: Params) -> int | None:
        return params.escalate_after_days if params.escalate_to else None

    by_organisation = {}
    for (organisation, rule), override in work.config.every_override("organisation").items():
        by_organisation[(organisation, rule)] = days(ctx.rules.params(rule, override.params))
    return Escalations({rule: days(p) for rule, p in ctx.rules.defaults.items()}, by_organisation)


def raise_due(ctx: AlertsContext, now: datetime, *, batch: int | None = None,
              after_batch: BatchHook | None = None, report: ScanReport | None = None) -> ScanReport:
    """Warn and raise every clock due at ``now``, batch after batch, until none is left."""
    report = report or ScanReport()
    size = batch or ctx.settings.scan_batch
    automatic = life.automatic_reasons(ctx.vocabulary)
    with ctx.uow() as work:
        timing = escalations(ctx, work)
    postgresql = None
    while True:
        with ctx.uow() as work:
            if postgresql is None:
                postgresql = work.session.get_bind().dialect.name == "postgresql"
            if postgresql:
                # The batch, its events and its deliveries in one statement.
                told = raise_and_tell(work.session, now, size, timing, automatic)
                if not told.claimed:
                    return report
                publisher = Publisher(work, now)
                report.notices += _close_one_notices(ctx, work, publisher, told.close_ones, now)
                publisher.flush()
                report.opened += told.opened
                report.warned += told.warned
                report.batches += 1
                if after_batch is not None:
                    after_batch(work, report.batches)
                work.commit()
                continue
            rows = raise_batch(work.session, now, size, timing, automatic)
            if not rows:
                return report
            publisher = Publisher(work, now)
            for r in rows:
                due = r.due_at.isoformat() if r.due_at else None
                if r.opened:
                    publisher.add(events.ALERT_OPENED, _facts(r), life.OPEN, {"due_at": due})
                elif r.warned:
                    publisher.add(events.ALERT_WARNED, _facts(r), life.WARNING, {"due_at": due})
            report.notices += _close_one_notices(
                ctx, work, publisher, _candidates(work, [r for r in rows if r.opened and r.rule == "not_seen"]),
                now)
            publisher.flush()
            report.opened += sum(r.opened for r in rows)
            report.warned += sum(r.warned for r in rows)
            report.batches += 1
            if after_batch is not None:
                after_batch(work, report.batches)
            work.commit()


def _candidates(work: AlertsUnitOfWork, rows: list[Raised]) -> list[tuple[Raised, str]]:
    """The opened not-seen alerts whose person has a close one with an active grant."""
    if not rows:
        return []
    g = projection.grants.c
    by_person = {r.beneficiary_id: r for r in rows}
    found = work.session.execute(select(g.beneficiary_id, g.grantee).where(
        among(work.session, g.beneficiary_id, sorted(by_person)), g.grantee_kind == "close_one",
        g.active.is_(True)))
    return [(by_person[person], close_one) for person, close_one in found.all()]


def _close_one_notices(ctx: AlertsContext, work: AlertsUnitOfWork, publisher: Publisher,
                       candidates: list[tuple[Raised, str]], now: datetime) -> int:
    """Close ones the person chose (a grant covering alerts) get a notice that holds no record
    data: "your contact person has been asked to get in touch"."""
    notices = []
    by_notice: dict[str, Raised] = {}
    for row, close_one in sorted(set(candidates), key=lambda c: (c[0].beneficiary_id, c[1])):
        question = Question(row.beneficiary_id, "read", (CATEGORY,), PURPOSE, now)
        decision = decide(work.consent_state(row.beneficiary_id), Actor(close_one, "close_one"), question,
                          ctx.policy)
        if CATEGORY not in decision.permitted:
            continue
        notice_id = notice_key(row.beneficiary_id, "close_one_notice", close_one, row.alert_id)
        by_notice[notice_id] = row
        notices.append({"notice_id": notice_id, "alert_id": row.alert_id,
                        "beneficiary_id": row.beneficiary_id, "close_one": close_one, "created_at": now})
    made = set(work.alerts.add_notices(notices))
    for notice in notices:
        if notice["notice_id"] in made:
            publisher.add(events.CLOSE_ONE_NOTICE, _facts(by_notice[notice["notice_id"]]),
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
