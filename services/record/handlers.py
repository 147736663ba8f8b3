"""One function per command of the record service. Each access writes its audit event in the
same unit of work as the access itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.record.adapters.unit_of_work import RecordUnitOfWork
from services.record.domain import contacts
from services.record.domain.contacts import Author, Contact
from shared.audit_trail import Access, record_access
from shared.auth import Principal

SERVICE = "record"


@dataclass(frozen=True)
class LogContact:
    beneficiary_id: str
    occurred_at: datetime
    modality: str
    outcome: str
    duration_minutes: int | None = None


def log_contact(
    uow: RecordUnitOfWork, command: LogContact, principal: Principal, request_id: str | None
) -> Contact:
    contact = contacts.new_contact(
        command.beneficiary_id,
        command.occurred_at,
        command.modality,
        command.outcome,
        Author(principal.subject, principal.organisation, principal.profession),
        command.duration_minutes,
    )
    with uow:
        uow.entries.add_contact(contact)
        uow.publish(
            "record.contact_logged",
            {
                "entry_id": contact.id,
                "beneficiary_id": contact.beneficiary_id,
                "occurred_at": contact.occurred_at.isoformat(),
                "modality": contact.modality,
                "outcome": contact.outcome,
                "organisation": contact.author.organisation,
                "profession": contact.author.profession,
            },
            correlation_id=request_id,
        )
        record_access(
            uow,
            principal,
            Access(
                action="contact.log",
                crude="C",
                beneficiary_id=contact.beneficiary_id,
                categories=(contacts.CATEGORY,),
                entry_ids=(contact.id,),
            ),
            service=SERVICE,
            request_id=request_id,
        )
        uow.commit()
    return contact


def read_timeline(
    uow: RecordUnitOfWork,
    beneficiary_id: str,
    principal: Principal,
    request_id: str | None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    with uow:
        items = uow.entries.timeline(beneficiary_id, limit)
        record_access(
            uow,
            principal,
            Access(
                action="timeline.read",
                crude="R",
                beneficiary_id=beneficiary_id,
                categories=tuple(sorted({item["category"] for item in items})),
                entry_ids=tuple(item["id"] for item in items),
            ),
            service=SERVICE,
            request_id=request_id,
        )
        uow.commit()
    return items
