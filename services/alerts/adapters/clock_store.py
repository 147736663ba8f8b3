"""The clocks: one row per person, rule and watched thing, kept by the event handlers and read
by the scan through the partial index on ``next_at``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, any_, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from services.alerts.adapters.orm import clocks
from services.alerts.domain.clocks import Clock

ARMED, WARNED, RAISED = "armed", "warned", "raised"


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
    stage: str
    next_at: datetime | None


def next_at(stage: str, warn_at: datetime | None, due_at: datetime | None) -> datetime | None:
    """When the scan should look at a clock again: its warning, then its alert, then never."""
    if due_at is None:
        return None
    if stage == ARMED:
        return warn_at or due_at
    if stage == WARNED:
        return due_at
    return None


def _row(r) -> ClockRow:
    return ClockRow(r.clock_id, r.beneficiary_id, r.rule, r.subject_id, r.organisation, r.period,
                    r.anchor_at, r.variant, r.alert_id, r.warn_at, r.due_at, r.stage, r.next_at)


class ClockStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_person(self, beneficiary_id: str, *, for_update: bool = False) -> dict[tuple[str, str], ClockRow]:
        query = select(clocks).where(clocks.c.beneficiary_id == beneficiary_id)
        if for_update:
            query = query.with_for_update()
        return {(r.rule, r.subject_id): _row(r) for r in self.session.execute(query)}

    def put(self, clock: Clock, *, organisation: str | None, stage: str, exists: bool,
            now: datetime) -> None:
        values = {
            "beneficiary_id": clock.beneficiary_id, "rule": clock.rule, "subject_id": clock.subject_id,
            "organisation": organisation, "period": clock.period, "anchor_at": clock.anchor_at,
            "variant": clock.variant, "alert_id": clock.alert_id, "warn_at": clock.warn_at,
            "due_at": clock.due_at, "stage": stage,
            "next_at": next_at(stage, clock.warn_at, clock.due_at), "updated_at": now,
        }
        if exists:
            self.session.execute(update(clocks).where(clocks.c.clock_id == clock.clock_id).values(**values))
        else:
            self.session.execute(clocks.insert().values(clock_id=clock.clock_id, **values))

    def remove(self, clock_ids: Iterable[str]) -> None:
        ids = list(clock_ids)
        if ids:
            self.session.execute(delete(clocks).where(clocks.c.clock_id.in_(ids)))

    # -- the scan ------------------------------------------------------------------------------
    def claim_due(self, now: datetime, limit: int) -> list[ClockRow]:
        """Due clocks, oldest first, locked for this transaction; rows another scanner holds
        are skipped (PostgreSQL), so two scanners share the work instead of repeating it."""
        query = (select(clocks).where(clocks.c.next_at <= now).order_by(clocks.c.next_at)
                 .limit(limit).with_for_update(skip_locked=True))
        return [_row(r) for r in self.session.execute(query)]

    def fired(self, stage: str, rows: list[ClockRow], now: datetime) -> None:
        """The clocks just warned or raised: a warned one waits for its due time, a raised one
        is done for its period."""
        if not rows:
            return
        ids = [r.clock_id for r in rows]
        if self.session.get_bind().dialect.name == "postgresql":
            # One array parameter rather than a thousand placeholders to parse.
            where = clocks.c.clock_id == any_(bindparam("ids", ids, type_=ARRAY(String)))
        else:
            where = clocks.c.clock_id.in_(ids)
        if stage == RAISED:
            self.session.execute(update(clocks).where(where).values(stage=RAISED, next_at=None, updated_at=now))
        else:
            self.session.execute(update(clocks).where(where).values(
                stage=WARNED, next_at=clocks.c.due_at, updated_at=now))

    def forget(self, beneficiary_id: str) -> None:
        self.session.execute(delete(clocks).where(clocks.c.beneficiary_id == beneficiary_id))
