"""The journey facts of each person, their last seen and their followers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.alerts.adapters.orm import followers, journey_facts, last_seen
from services.alerts.domain.journey import Fact, Follower
from shared.db.statements import insert_ignoring_duplicates


@dataclass(frozen=True)
class LastSeen:
    beneficiary_id: str
    last_seen_at: datetime | None
    last_seen_entry_id: str | None
    last_attempt_at: datetime | None


class JourneyStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the person's row: created if need be, locked for the transaction ---------------------
    def lock_person(self, beneficiary_id: str, now: datetime) -> None:
        """Every change of one person's facts and clocks goes through here first, so two
        changes on the same person (two consumers, the API) never interleave."""
        self.session.execute(insert_ignoring_duplicates(self.session, last_seen, {
            "beneficiary_id": beneficiary_id, "updated_at": now}))
        self.session.execute(select(last_seen.c.beneficiary_id)
                             .where(last_seen.c.beneficiary_id == beneficiary_id).with_for_update())

    # -- facts ---------------------------------------------------------------------------------
    def add_facts(self, facts: tuple[Fact, ...]) -> None:
        if facts:
            self.session.execute(insert_ignoring_duplicates(self.session, journey_facts, [
                {"entry_id": f.entry_id, "beneficiary_id": f.beneficiary_id, "kind": f.kind,
                 "thread_id": f.thread_id, "occurred_at": f.occurred_at, "recorded_at": f.recorded_at,
                 "codes": json.dumps(dict(f.codes), separators=(",", ":"), sort_keys=True),
                 "replaced": False} for f in facts]))

    def mark_replaced(self, beneficiary_id: str, entry_ids: tuple[str, ...], now: datetime) -> None:
        """The entries are no longer current. One not seen yet is kept as a tombstone, so it
        never counts when it arrives late."""
        for entry_id in entry_ids:
            self.session.execute(insert_ignoring_duplicates(self.session, journey_facts, {
                "entry_id": entry_id, "beneficiary_id": beneficiary_id, "kind": "unknown",
                "thread_id": None, "occurred_at": None, "recorded_at": now, "codes": "{}",
                "replaced": True}))
            self.session.execute(update(journey_facts).where(
                journey_facts.c.entry_id == entry_id,
                journey_facts.c.beneficiary_id == beneficiary_id).values(replaced=True))

    def facts(self, beneficiary_id: str) -> list[Fact]:
        rows = self.session.execute(select(journey_facts).where(
            journey_facts.c.beneficiary_id == beneficiary_id, journey_facts.c.kind != "unknown"))
        return [Fact(r.entry_id, r.beneficiary_id, r.kind, r.recorded_at, r.occurred_at, r.thread_id,
                     json.loads(r.codes), r.replaced) for r in rows]

    # -- read models ---------------------------------------------------------------------------
    def save_last_seen(self, value: LastSeen, now: datetime) -> None:
        self.session.execute(update(last_seen).where(
            last_seen.c.beneficiary_id == value.beneficiary_id).values(
            last_seen_at=value.last_seen_at, last_seen_entry_id=value.last_seen_entry_id,
            last_attempt_at=value.last_attempt_at, updated_at=now))

    def last_seen(self, beneficiary_id: str) -> LastSeen | None:
        row = self.session.execute(select(last_seen).where(
            last_seen.c.beneficiary_id == beneficiary_id)).first()
        if row is None:
            return None
        return LastSeen(row.beneficiary_id, row.last_seen_at, row.last_seen_entry_id, row.last_attempt_at)

    def save_followers(self, beneficiary_id: str, current: tuple[Follower, ...]) -> None:
        self.session.execute(delete(followers).where(followers.c.beneficiary_id == beneficiary_id))
        if current:
            self.session.execute(followers.insert(), [
                {"beneficiary_id": beneficiary_id, "subject": f.subject, "role": f.role,
                 "organisation": f.organisation, "profession": f.profession} for f in current])

    def forget(self, beneficiary_id: str) -> None:
        for table in (journey_facts, followers, last_seen):
            self.session.execute(delete(table).where(table.c.beneficiary_id == beneficiary_id))
