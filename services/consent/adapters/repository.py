from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.consent.adapters.orm import beneficiaries
from services.consent.domain.beneficiaries import Beneficiary


class BeneficiaryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, beneficiary: Beneficiary) -> None:
        self.session.execute(
            insert(beneficiaries).values(
                id=beneficiary.id,
                registered_at=beneficiary.registered_at,
                registered_by_organisation=beneficiary.registered_by_organisation,
            )
        )

    def get(self, beneficiary_id: str) -> Beneficiary | None:
        row = self.session.execute(
            select(beneficiaries).where(beneficiaries.c.id == beneficiary_id)
        ).mappings().first()
        if row is None:
            return None
        return Beneficiary(
            id=row["id"],
            registered_at=row["registered_at"],
            registered_by_organisation=row["registered_by_organisation"],
        )
