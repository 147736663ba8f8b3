"""One function per command and per consumed event of the alerts service."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.alerts.adapters.repository import LastSeen, LastSeenRepository
from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.domain.last_seen import moves_last_seen
from shared.audit_trail import Access, record_access
from shared.auth import Principal

SERVICE = "alerts"


def contact_logged(repository: LastSeenRepository, payload: dict, now: datetime) -> None:
    """A contact anywhere in the network: a meeting resets the clock, an attempt is kept."""
    beneficiary_id = payload["beneficiary_id"]
    occurred_at = datetime.fromisoformat(payload["occurred_at"])
    current = repository.get(beneficiary_id, for_update=True)
    value = current or LastSeen(beneficiary_id, None, None, None)
    if moves_last_seen(payload["outcome"], occurred_at, value.last_seen_at):
        value = replace(value, last_seen_at=occurred_at, last_seen_entry_id=payload["entry_id"])
    elif payload["outcome"] == "attempt" and (
        value.last_attempt_at is None or occurred_at > value.last_attempt_at
    ):
        value = replace(value, last_attempt_at=occurred_at)
    else:
        return
    repository.save(value, now, exists=current is not None)


def read_last_seen(
    uow: AlertsUnitOfWork, beneficiary_id: str, principal: Principal, request_id: str | None
) -> LastSeen:
    with uow:
        found = uow.last_seen.get(beneficiary_id) or LastSeen(beneficiary_id, None, None, None)
        record_access(
            uow, principal,
            Access(action="last_seen.read", crude="R", beneficiary_id=beneficiary_id,
                   categories=("alerts",)),
            service=SERVICE, request_id=request_id,
        )
        uow.commit()
    return found


def utcnow() -> datetime:
    return datetime.now(UTC)
