from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from services.alerts.adapters.orm import last_seen


@dataclass(frozen=True)
class LastSeen:
    beneficiary_id: str
    last_seen_at: datetime | None
    last_seen_entry_id: str | None
    last_attempt_at: datetime | None


class LastSeenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, beneficiary_id: str, *, for_update: bool = False) -> LastSeen | None:
        query = select(last_seen).where(last_seen.c.beneficiary_id == beneficiary_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).mappings().first()
        if row is None:
            return None
        return LastSeen(
            row["beneficiary_id"], row["last_seen_at"], row["last_seen_entry_id"], row["last_attempt_at"]
        )

    def save(self, value: LastSeen, now: datetime, *, exists: bool) -> None:
        values = {
            "last_seen_at": value.last_seen_at,
            "last_seen_entry_id": value.last_seen_entry_id,
            "last_attempt_at": value.last_attempt_at,
            "updated_at": now,
        }
        if exists:
            self.session.execute(
                update(last_seen).where(last_seen.c.beneficiary_id == value.beneficiary_id).values(**values)
            )
        else:
            self.session.execute(insert(last_seen).values(beneficiary_id=value.beneficiary_id, **values))
