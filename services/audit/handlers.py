"""One function per command and per consumed event of the audit service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.audit.adapters.repository import AuditLogRepository
from services.audit.adapters.unit_of_work import AuditUnitOfWork
from services.audit.domain.entries import entry_from_event
from shared.audit_trail import actor_of
from shared.auth import Principal
from shared.bus.envelope import Envelope

SERVICE = "audit"


def ingest(repository: AuditLogRepository, event: Envelope, now: datetime) -> None:
    entry = entry_from_event(
        event.id, event.type, event.producer, event.sequence, event.occurred_at, event.payload
    )
    repository.append(entry, now)


def search(
    uow: AuditUnitOfWork,
    principal: Principal,
    beneficiary_id: str | None,
    limit: int,
    request_id: str | None,
) -> list[dict]:
    """Search the log; the search itself is logged (the audit of the audit)."""
    now = datetime.now(UTC)
    with uow:
        results = uow.log.search(beneficiary_id, limit)
        own = entry_from_event(
            str(uuid.uuid4()),
            "audit.access_recorded",
            SERVICE,
            None,
            now,
            {
                "actor": actor_of(principal),
                "action": "audit.search",
                "crude": "E",
                "beneficiary_id": beneficiary_id,
                "categories": [],
                "entry_ids": [],
                "purpose": "audit",
                "outcome": "permit",
                "reason": None,
                "service": SERVICE,
                "request_id": request_id,
            },
        )
        uow.log.append(own, now)
        uow.commit()
    return results
