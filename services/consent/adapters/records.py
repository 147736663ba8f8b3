"""Exclusions, emergency accesses, share codes, receipts and projection acknowledgements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from services.consent.adapters.orm import (
    emergency_accesses,
    exclusion_records,
    projection,
    projection_acks,
    receipts,
    redemption_failures,
    share_codes,
)


class ConsentRecords:
    def __init__(self, session: Session) -> None:
        self.session = session

    # exclusions
    def add_exclusion(self, **values: Any) -> None:
        self.session.execute(insert(exclusion_records).values(**values))

    def exclusions_of(self, beneficiary_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.session.execute(
            select(exclusion_records).where(exclusion_records.c.beneficiary_id == beneficiary_id)
            .order_by(exclusion_records.c.created_at)).mappings()]

    def exclusion(self, beneficiary_id: str, exclusion_id: str) -> dict[str, Any] | None:
        row = self.session.execute(select(exclusion_records).where(
            exclusion_records.c.beneficiary_id == beneficiary_id,
            exclusion_records.c.id == exclusion_id).with_for_update()).mappings().first()
        return dict(row) if row else None

    def lift_exclusion(self, exclusion_id: str, at: datetime, by: str) -> None:
        self.session.execute(update(exclusion_records).where(exclusion_records.c.id == exclusion_id)
                             .values(lifted_at=at, lifted_by=by))

    # emergencies
    def emergency(self, beneficiary_id: str, access_id: str) -> dict[str, Any] | None:
        row = self.session.execute(select(emergency_accesses).where(
            emergency_accesses.c.beneficiary_id == beneficiary_id,
            emergency_accesses.c.id == access_id).with_for_update()).mappings().first()
        return dict(row) if row else None

    def close_emergency(self, access_id: str, at: datetime, by: str) -> None:
        self.session.execute(update(emergency_accesses).where(emergency_accesses.c.id == access_id)
                             .values(closed_at=at, closed_by=by))

    def add_emergency(self, **values: Any) -> None:
        self.session.execute(insert(emergency_accesses).values(**values))

    def emergencies_of(self, beneficiary_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.session.execute(
            select(emergency_accesses).where(emergency_accesses.c.beneficiary_id == beneficiary_id)
            .order_by(emergency_accesses.c.opened_at)).mappings()]

    # share codes
    def add_share_code(self, **values: Any) -> None:
        self.session.execute(insert(share_codes).values(**values))

    def share_code(self, code_hash: str) -> dict[str, Any] | None:
        row = self.session.execute(
            select(share_codes).where(share_codes.c.code_hash == code_hash).with_for_update()
        ).mappings().first()
        return dict(row) if row else None

    def use_share_code(self, code_id: str, at: datetime) -> bool:
        """Mark a code used; False when someone else used it first."""
        result = self.session.execute(update(share_codes).where(
            share_codes.c.id == code_id, share_codes.c.used_at.is_(None)).values(used_at=at))
        return result.rowcount == 1

    def failures_since(self, subject: str, since: datetime) -> int:
        return self.session.execute(
            select(func.count()).select_from(redemption_failures).where(
                redemption_failures.c.subject == subject, redemption_failures.c.failed_at >= since)
        ).scalar_one()

    def add_failure(self, subject: str, at: datetime) -> None:
        self.session.execute(insert(redemption_failures).values(subject=subject, failed_at=at))

    # receipts
    def add_receipt(self, **values: Any) -> None:
        self.session.execute(insert(receipts).values(**values))

    def receipts_of(self, beneficiary_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.session.execute(
            select(receipts).where(receipts.c.beneficiary_id == beneficiary_id)
            .order_by(receipts.c.issued_at)).mappings()]

    def forget_person(self, beneficiary_id: str) -> None:
        """Erasure: drop what could be linked back to a person beyond the pseudonym."""
        self.session.execute(delete(share_codes).where(share_codes.c.beneficiary_id == beneficiary_id))

    def team_members(self, team_id: str) -> set[str]:
        t = projection.team_members.c
        return set(self.session.execute(select(t.subject).where(t.team_id == team_id)).scalars())

    # acknowledgements from other services' projections (strict withdrawal)
    def acknowledge(self, projection: str, beneficiary_id: str, epoch: int) -> None:
        current = self.session.execute(
            select(projection_acks.c.epoch).where(
                projection_acks.c.projection == projection,
                projection_acks.c.beneficiary_id == beneficiary_id).with_for_update()
        ).scalar()
        if current is None:
            self.session.execute(insert(projection_acks).values(
                projection=projection, beneficiary_id=beneficiary_id, epoch=epoch))
        elif epoch > current:
            self.session.execute(update(projection_acks).where(
                projection_acks.c.projection == projection,
                projection_acks.c.beneficiary_id == beneficiary_id).values(epoch=epoch))

    def acknowledged(self, beneficiary_id: str) -> dict[str, int]:
        return {row.projection: row.epoch for row in self.session.execute(
            select(projection_acks).where(projection_acks.c.beneficiary_id == beneficiary_id))}
