"""The clocks, and the schedule the scan reads.

``clocks`` holds, per person, rule and watched thing, the period a clock is about and when it
warns and is due; the event handlers keep it. ``clock_due`` holds only the clocks with a step
still to come — a warning or the alert — with what raising needs, indexed by when: the scan
claims the due rows, deletes those it raised and moves those it warned to their due time. A
row that is gone means the period's alert was raised (or the clock is paused): nothing is
rewritten in ``clocks`` at raising time, and a row deleted costs the database less than one
updated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.alerts.adapters.orm import clock_due, clocks
from services.alerts.domain.clocks import Clock

WARN, RAISE = "warn", "raise"


@dataclass(frozen=True)
class ClockRow:
    clock_id: str
    beneficiary_id: str
    rule: str
    subject_id: str
    organisation: str | None
    period: str
    anchor_at: datetime | None
    variant: str
    alert_id: str
    warn_at: datetime | None
    due_at: datetime | None


@dataclass(frozen=True)
class DueRow:
    """A step to come: ``step`` (warn | raise) at ``next_at``, and what raising needs."""

    clock_id: str
    next_at: datetime
    step: str
    alert_id: str
    beneficiary_id: str
    rule: str
    subject_id: str
    organisation: str | None
    period: str
    anchor_at: datetime | None
    due_at: datetime


def _clock(r) -> ClockRow:
    return ClockRow(r.clock_id, r.beneficiary_id, r.rule, r.subject_id, r.organisation, r.period,
                    r.anchor_at, r.variant, r.alert_id, r.warn_at, r.due_at)


def _due(r) -> DueRow:
    return DueRow(r.clock_id, r.next_at, r.step, r.alert_id, r.beneficiary_id, r.rule, r.subject_id,
                  r.organisation, r.period, r.anchor_at, r.due_at)


def due_row(clock: Clock, organisation: str | None, step: str) -> DueRow:
    """The schedule row of a clock's next step: its warning, or its alert."""
    assert clock.due_at is not None and (step == RAISE or clock.warn_at is not None)
    at = clock.warn_at if step == WARN else clock.due_at
    assert at is not None
    return DueRow(clock.clock_id, at, step, clock.alert_id, clock.beneficiary_id, clock.rule,
                  clock.subject_id, organisation, clock.period, clock.anchor_at, clock.due_at)


class ClockStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the clocks ----------------------------------------------------------------------------
    def of_person(self, beneficiary_id: str, *, for_update: bool = False) -> dict[tuple[str, str], ClockRow]:
        query = select(clocks).where(clocks.c.beneficiary_id == beneficiary_id)
        if for_update:
            query = query.with_for_update()
        return {(r.rule, r.subject_id): _clock(r) for r in self.session.execute(query)}

    def put(self, clock: Clock, *, organisation: str | None, exists: bool, now: datetime) -> None:
        values = {
            "beneficiary_id": clock.beneficiary_id, "rule": clock.rule, "subject_id": clock.subject_id,
            "organisation": organisation, "period": clock.period, "anchor_at": clock.anchor_at,
            "variant": clock.variant, "alert_id": clock.alert_id, "warn_at": clock.warn_at,
            "due_at": clock.due_at, "updated_at": now,
        }
        if exists:
            self.session.execute(update(clocks).where(clocks.c.clock_id == clock.clock_id).values(**values))
        else:
            self.session.execute(clocks.insert().values(clock_id=clock.clock_id, **values))

    def remove(self, clock_ids: Iterable[str]) -> None:
        ids = list(clock_ids)
        if ids:
            self.session.execute(delete(clock_due).where(clock_due.c.clock_id.in_(ids)))
            self.session.execute(delete(clocks).where(clocks.c.clock_id.in_(ids)))

    # -- the schedule --------------------------------------------------------------------------
    def due_of_person(self, beneficiary_id: str, *, for_update: bool = False) -> dict[str, DueRow]:
        query = select(clock_due).where(clock_due.c.beneficiary_id == beneficiary_id)
        if for_update:
            query = query.with_for_update()
        return {r.clock_id: _due(r) for r in self.session.execute(query)}

    def schedule(self, row: DueRow, *, exists: bool) -> None:
        values = {name: getattr(row, name) for name in DueRow.__dataclass_fields__ if name != "clock_id"}
        if exists:
            self.session.execute(update(clock_due).where(clock_due.c.clock_id == row.clock_id).values(**values))
        else:
            self.session.execute(clock_due.insert().values(clock_id=row.clock_id, **values))

    def unschedule(self, clock_ids: Iterable[str]) -> None:
        ids = list(clock_ids)
        if ids:
            self.session.execute(delete(clock_due).where(clock_due.c.clock_id.in_(ids)))

    def claim_due(self, now: datetime, limit: int) -> list[DueRow]:
        """Due steps, oldest first, locked for this transaction; rows another scanner holds are
        skipped (PostgreSQL), so two scanners share the work instead of repeating it."""
        query = (select(clock_due).where(clock_due.c.next_at <= now).order_by(clock_due.c.next_at)
                 .limit(limit).with_for_update(skip_locked=True))
        return [_due(r) for r in self.session.execute(query)]

    def fired(self, raised: list[DueRow], warned: list[DueRow]) -> None:
        """A raised step is done for its period; a warned one waits for its due time."""
        if raised:
            self.session.execute(delete(clock_due).where(clock_due.c.clock_id.in_([r.clock_id for r in raised])))
        if warned:
            self.session.execute(update(clock_due).where(
                clock_due.c.clock_id.in_([r.clock_id for r in warned])).values(
                next_at=clock_due.c.due_at, step=RAISE))

    def forget(self, beneficiary_id: str) -> None:
        for table in (clock_due, clocks):
            self.session.execute(delete(table).where(table.c.beneficiary_id == beneficiary_id))
