"""Alerts, who they were escalated to, and the notices for close ones."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.alerts.adapters.clock_store import DueRow
from services.alerts.adapters.orm import (
    alert_recipients,
    alerts,
    clocks,
    close_one_notices,
    followers,
)
from services.alerts.domain.alerts import AlertRow
from shared.db.statements import insert_ignoring_duplicates, staged


@dataclass(frozen=True)
class Alert:
    alert_id: str
    beneficiary_id: str
    rule: str
    subject_id: str
    period: str
    organisation: str | None
    state: str
    audience: str
    level: int
    snoozes: int
    anchor_at: datetime | None
    due_at: datetime | None
    raised_at: datetime
    opened_at: datetime | None
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledgement_reason: str | None
    reported_last_seen_on: date | None
    snoozed_until: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    next_at: datetime | None
    changed_at: datetime

    @property
    def row(self) -> AlertRow:
        return AlertRow(self.alert_id, self.beneficiary_id, self.rule, self.subject_id, self.state,
                        self.level, self.snoozes, self.organisation)


_FIELDS = [f.name for f in fields(Alert)]


def _alert(row: Any) -> Alert:
    mapping = row._mapping
    return Alert(**{name: mapping[name] for name in _FIELDS})


class AlertStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- raising (the scan) --------------------------------------------------------------------
    def _raised_rows(self, rows: list[DueRow], next_at: list[datetime | None], state: str,
                     now: datetime) -> list[dict[str, Any]]:
        return [{"alert_id": r.alert_id, "beneficiary_id": r.beneficiary_id, "rule": r.rule,
                 "subject_id": r.subject_id, "period": r.period, "organisation": r.organisation,
                 "anchor_at": r.anchor_at, "due_at": r.due_at, "next_at": n, "state": state,
                 "audience": "referent", "level": 0, "snoozes": 0, "raised_at": now,
                 "opened_at": now if state == "open" else None, "changed_at": now}
                for r, n in zip(rows, next_at, strict=True)]

    def _postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def open_many(self, rows: list[DueRow], next_at: list[datetime | None], now: datetime,
                  reopenable: Collection[str]) -> list[str]:
        """Raise the alerts of these scheduled steps as open. One that exists already is opened only if it was
        a warning, or was resolved automatically for a reason that no longer holds (its period
        is back); any other (open, acknowledged, resolved by hand) is left as it is. Returns the
        ids that are now open because of this call."""
        if not rows:
            return []
        values = self._raised_rows(rows, next_at, "open", now)
        if self._postgresql():
            return self._upsert_postgresql(values, now, reopenable, open_=True)
        insert = sqlite_insert(alerts)
        excluded = insert.excluded
        statement = insert.on_conflict_do_update(
            index_elements=[alerts.c.alert_id],
            set_={"state": "open", "raised_at": excluded.raised_at, "opened_at": excluded.opened_at,
                  "due_at": excluded.due_at, "anchor_at": excluded.anchor_at,
                  "organisation": excluded.organisation, "level": 0, "audience": "referent",
                  "next_at": excluded.next_at, "resolved_at": None, "resolved_by": None,
                  "resolution": None, "snoozed_until": None, "changed_at": excluded.changed_at},
            # Equalities, not IN: an expanding parameter cannot go through executemany.
            where=or_(alerts.c.state == "warning",
                      and_(alerts.c.state == "resolved",
                           or_(*[alerts.c.resolution == code for code in sorted(reopenable)]))),
        ).returning(alerts.c.alert_id)
        return list(self.session.execute(statement, values).scalars())

    def warn_many(self, rows: list[DueRow], now: datetime) -> list[str]:
        """Raise the alerts of these scheduled steps as warnings; one that exists in any state is left alone."""
        if not rows:
            return []
        values = self._raised_rows(rows, [None] * len(rows), "warning", now)
        if self._postgresql():
            return self._upsert_postgresql(values, now, (), open_=False)
        statement = sqlite_insert(alerts).on_conflict_do_nothing(
            index_elements=[alerts.c.alert_id]).returning(alerts.c.alert_id)
        return list(self.session.execute(statement, values).scalars())

    def _upsert_postgresql(self, values: list[dict[str, Any]], now: datetime,
                           reopenable: Collection[str], *, open_: bool) -> list[str]:
        """The same statements for a whole batch: the rows are copied into a temporary table,
        then inserted from it in one statement."""
        source = staged(self.session, alerts, values)
        columns = ", ".join(values[0])
        statement = f"INSERT INTO alerts ({columns}) SELECT {columns} FROM {source} ON CONFLICT (alert_id) "
        if open_:
            statement += (
                "DO UPDATE SET state = 'open', raised_at = excluded.raised_at, "
                "opened_at = excluded.opened_at, due_at = excluded.due_at, "
                "anchor_at = excluded.anchor_at, organisation = excluded.organisation, level = 0, "
                "audience = 'referent', next_at = excluded.next_at, resolved_at = NULL, "
                "resolved_by = NULL, resolution = NULL, snoozed_until = NULL, "
                "changed_at = excluded.changed_at "
                "WHERE alerts.state = 'warning' OR (alerts.state = 'resolved' "
                "AND alerts.resolution = ANY(CAST(:reopenable AS text[]))) ")
        else:
            statement += "DO NOTHING "
        return list(self.session.execute(text(statement + "RETURNING alert_id"),
                                         {"reopenable": sorted(reopenable)}).scalars())

    # -- one alert -----------------------------------------------------------------------------
    def get(self, alert_id: str, *, for_update: bool = False) -> Alert | None:
        query = select(alerts).where(alerts.c.alert_id == alert_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return None if row is None else _alert(row)

    def many(self, alert_ids: Collection[str]) -> list[Alert]:
        if not alert_ids:
            return []
        return [_alert(r) for r in self.session.execute(
            select(alerts).where(alerts.c.alert_id.in_(list(alert_ids))))]

    def states(self, alert_ids: Collection[str]) -> dict[str, tuple[str, str | None]]:
        if not alert_ids:
            return {}
        rows = self.session.execute(select(alerts.c.alert_id, alerts.c.state, alerts.c.resolution)
                                    .where(alerts.c.alert_id.in_(list(alert_ids))))
        return {r.alert_id: (r.state, r.resolution) for r in rows}

    def change(self, alert_id: str, values: Mapping[str, Any]) -> None:
        self.session.execute(update(alerts).where(alerts.c.alert_id == alert_id).values(**values))

    def unresolved_of(self, beneficiary_id: str, *, for_update: bool = False) -> list[Alert]:
        query = select(alerts).where(alerts.c.beneficiary_id == beneficiary_id,
                                     alerts.c.state != "resolved").order_by(alerts.c.raised_at)
        if for_update:
            query = query.with_for_update()
        return [_alert(r) for r in self.session.execute(query)]

    # -- escalations and snoozes (the scan) ----------------------------------------------------
    def claim_next(self, now: datetime, limit: int) -> list[Alert]:
        query = (select(alerts).where(alerts.c.next_at <= now).order_by(alerts.c.next_at)
                 .limit(limit).with_for_update(skip_locked=True))
        return [_alert(r) for r in self.session.execute(query)]

    def add_recipient(self, alert_id: str, subject: str, target: str, level: int, now: datetime) -> None:
        self.session.execute(insert_ignoring_duplicates(self.session, alert_recipients, {
            "alert_id": alert_id, "subject": subject, "target": target, "level": level,
            "added_at": now}))

    def recipients(self, alert_ids: Collection[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        if alert_ids:
            for r in self.session.execute(select(alert_recipients).where(
                    alert_recipients.c.alert_id.in_(list(alert_ids))).order_by(alert_recipients.c.level)):
                found.setdefault(r.alert_id, []).append(r.subject)
        return found

    # -- inboxes -------------------------------------------------------------------------------
    def inbox_of_professional(self, subject: str, states: Collection[str], rules: Collection[str],
                              after: tuple[datetime, str] | None, limit: int) -> list[Alert]:
        """Alerts about persons the professional follows — as référent; as care-team member once
        the alert reached the care team or when the person has no référent — and alerts
        escalated to them by name. Newest first."""
        a = alerts.c
        f = followers.c
        as_referent = select(f.beneficiary_id).where(f.subject == subject, f.role == "referent")
        in_team = select(f.beneficiary_id).where(f.subject == subject, f.role == "care_team")
        referent = followers.alias("referent")
        has_referent = select(referent.c.subject).where(
            referent.c.beneficiary_id == a.beneficiary_id, referent.c.role == "referent").exists()
        named = select(alert_recipients.c.alert_id).where(alert_recipients.c.subject == subject)
        reach = or_(
            a.beneficiary_id.in_(as_referent),
            and_(a.beneficiary_id.in_(in_team), or_(a.audience == "care_team", ~has_referent)),
            a.alert_id.in_(named),
        )
        return self._page(reach, states, rules, after, limit)

    def inbox_of_organisation(self, organisation: str, states: Collection[str], rules: Collection[str],
                              after: tuple[datetime, str] | None, limit: int) -> list[Alert]:
        return self._page(alerts.c.organisation == organisation, states, rules, after, limit)

    def of_person(self, beneficiary_id: str, states: Collection[str], rules: Collection[str],
                  after: tuple[datetime, str] | None, limit: int) -> list[Alert]:
        return self._page(alerts.c.beneficiary_id == beneficiary_id, states, rules, after, limit)

    def _page(self, reach, states: Collection[str], rules: Collection[str],
              after: tuple[datetime, str] | None, limit: int) -> list[Alert]:
        a = alerts.c
        query = select(alerts).where(reach, a.state.in_(sorted(states)))
        if rules:
            query = query.where(a.rule.in_(sorted(rules)))
        if after is not None:
            at, alert_id = after
            query = query.where(or_(a.raised_at < at, and_(a.raised_at == at, a.alert_id < alert_id)))
        query = query.order_by(a.raised_at.desc(), a.alert_id.desc()).limit(limit)
        return [_alert(r) for r in self.session.execute(query)]

    # -- close ones ----------------------------------------------------------------------------
    def add_notices(self, rows: list[dict[str, Any]]) -> list[str]:
        if not rows:
            return []
        statement = insert_ignoring_duplicates(self.session, close_one_notices, rows).returning(
            close_one_notices.c.notice_id)
        return list(self.session.execute(statement).scalars())

    def notices_of(self, close_one: str, limit: int) -> list[tuple[str, str, datetime, str]]:
        """(notice id, person, when, alert state) of the close one's notices whose alert still asks."""
        n = close_one_notices.c
        rows = self.session.execute(
            select(n.notice_id, n.beneficiary_id, n.created_at, alerts.c.state)
            .join(alerts, alerts.c.alert_id == n.alert_id)
            .where(n.close_one == close_one, alerts.c.state != "resolved")
            .order_by(n.created_at.desc(), n.notice_id.desc()).limit(limit))
        return [(r.notice_id, r.beneficiary_id, r.created_at, r.state) for r in rows]

    # -- aggregates ----------------------------------------------------------------------------
    def counts(self, organisation: str, *, since: datetime | None = None) -> list[tuple[str, str, int, int]]:
        """(rule, state, alerts, distinct persons) of an organisation's alerts: unresolved ones,
        or every one raised since ``since``."""
        a = alerts.c
        query = select(a.rule, a.state, func.count(), func.count(a.beneficiary_id.distinct())).where(
            a.organisation == organisation)
        if since is None:
            query = query.where(a.state != "resolved")
        else:
            query = query.where(a.raised_at >= since)
        return [tuple(r) for r in self.session.execute(query.group_by(a.rule, a.state))]

    def persons(self, organisation: str, rule: str | None, *, since: datetime | None = None) -> int:
        a = alerts.c
        query = select(func.count(a.beneficiary_id.distinct())).where(a.organisation == organisation)
        if rule is not None:
            query = query.where(a.rule == rule)
        query = query.where(a.state != "resolved") if since is None else query.where(a.raised_at >= since)
        return int(self.session.execute(query).scalar() or 0)

    # -- housekeeping --------------------------------------------------------------------------
    def purge_resolved(self, before: datetime) -> int:
        """Resolved alerts older than the retention, once their clock moved to another period
        (while the clock is still in that period, the row keeps it from being raised again)."""
        current = select(clocks.c.clock_id).where(clocks.c.beneficiary_id == alerts.c.beneficiary_id,
                                                  clocks.c.alert_id == alerts.c.alert_id).exists()
        result = self.session.execute(delete(alerts).where(
            alerts.c.state == "resolved", alerts.c.resolved_at < before, ~current))
        self.session.execute(delete(alert_recipients).where(~alert_recipients.c.alert_id.in_(
            select(alerts.c.alert_id))))
        self.session.execute(delete(close_one_notices).where(~close_one_notices.c.alert_id.in_(
            select(alerts.c.alert_id))))
        return result.rowcount or 0

    def forget(self, beneficiary_id: str) -> None:
        ids = select(alerts.c.alert_id).where(alerts.c.beneficiary_id == beneficiary_id)
        self.session.execute(delete(alert_recipients).where(alert_recipients.c.alert_id.in_(ids)))
        for table in (close_one_notices, alerts):
            self.session.execute(delete(table).where(table.c.beneficiary_id == beneficiary_id))

