from __future__ import annotations

from services.consent.adapters.repository import BeneficiaryRepository
from shared.db.unit_of_work import UnitOfWork


class ConsentUnitOfWork(UnitOfWork):
    beneficiaries: BeneficiaryRepository

    def started(self) -> None:
        self.beneficiaries = BeneficiaryRepository(self.session)
