from __future__ import annotations

from services.alerts.adapters.repository import LastSeenRepository
from shared.db.unit_of_work import UnitOfWork


class AlertsUnitOfWork(UnitOfWork):
    last_seen: LastSeenRepository

    def started(self) -> None:
        self.last_seen = LastSeenRepository(self.session)
