from __future__ import annotations

from services.record.adapters.orm import projection
from services.record.adapters.repository import JourneyRepository
from shared.consent.decision import ConsentState
from shared.db.unit_of_work import UnitOfWork


class RecordUnitOfWork(UnitOfWork):
    journey: JourneyRepository

    def started(self) -> None:
        self.journey = JourneyRepository(self.session)

    def consent_state(self, beneficiary_id: str) -> ConsentState | None:
        return projection.state(self.session, beneficiary_id)

    def teams_of(self, subject: str) -> frozenset[str]:
        return projection.teams_of(self.session, subject)
