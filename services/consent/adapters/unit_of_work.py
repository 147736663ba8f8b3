from __future__ import annotations

from typing import Any

from services.consent.adapters.orm import projection
from services.consent.adapters.records import ConsentRecords
from services.consent.adapters.repository import BeneficiaryRepository, GrantRepository
from shared.consent.decision import ConsentState
from shared.db.unit_of_work import UnitOfWork


class ConsentUnitOfWork(UnitOfWork):
    beneficiaries: BeneficiaryRepository
    grants: GrantRepository
    records: ConsentRecords

    def started(self) -> None:
        self.beneficiaries = BeneficiaryRepository(self.session)
        self.grants = GrantRepository(self.session)
        self.records = ConsentRecords(self.session)

    def emit(self, event_type: str, payload: dict[str, Any], *, correlation_id: str | None) -> None:
        """Publish a ``consent.*`` event and apply it to this service's own decision view in the
        same transaction: the view and the event stream cannot disagree."""
        # Urgent: every other service's projection must learn of it at once.
        self.publish(event_type, payload, correlation_id=correlation_id, urgent=True)
        projection.apply(self.session, event_type, payload)

    def consent_state(self, beneficiary_id: str) -> ConsentState | None:
        return projection.state(self.session, beneficiary_id)

    def teams_of(self, subject: str) -> frozenset[str]:
        return projection.teams_of(self.session, subject)
