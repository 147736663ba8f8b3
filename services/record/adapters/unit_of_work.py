from __future__ import annotations

from services.record.adapters.repository import EntryRepository
from shared.db.unit_of_work import UnitOfWork


class RecordUnitOfWork(UnitOfWork):
    entries: EntryRepository

    def started(self) -> None:
        self.entries = EntryRepository(self.session)
