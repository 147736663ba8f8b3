"""One function per command of the consent service."""

from __future__ import annotations

from services.consent.adapters.unit_of_work import ConsentUnitOfWork
from services.consent.domain.beneficiaries import Beneficiary
from shared.audit_trail import Access, record_access
from shared.auth import Principal

SERVICE = "consent"


class NotVisible(LookupError):
    """The person does not exist, or the caller may not know that they do: one answer for both."""


def register_beneficiary(
    uow: ConsentUnitOfWork, principal: Principal, request_id: str | None
) -> Beneficiary:
    if not principal.organisation:
        raise PermissionError("only a professional of an organisation may register a person")
    beneficiary = Beneficiary(registered_by_organisation=principal.organisation)
    with uow:
        uow.beneficiaries.add(beneficiary)
        uow.publish(
            "consent.beneficiary_registered",
            {"beneficiary_id": beneficiary.id, "organisation": beneficiary.registered_by_organisation},
            correlation_id=request_id,
        )
        record_access(
            uow, principal,
            Access(action="beneficiary.register", crude="C", beneficiary_id=beneficiary.id,
                   categories=("identity",)),
            service=SERVICE, request_id=request_id,
        )
        uow.commit()
    return beneficiary


def read_beneficiary(
    uow: ConsentUnitOfWork, beneficiary_id: str, principal: Principal, request_id: str | None
) -> Beneficiary:
    with uow:
        found = uow.beneficiaries.get(beneficiary_id)
        visible = found is not None and found.registered_by_organisation == principal.organisation
        record_access(
            uow, principal,
            Access(action="beneficiary.read", crude="R", beneficiary_id=beneficiary_id,
                   categories=("identity",), outcome="permit" if visible else "deny",
                   reason=None if visible else "no_relationship"),
            service=SERVICE, request_id=request_id,
        )
        uow.commit()
    if not visible:
        raise NotVisible(beneficiary_id)
    assert found is not None
    return found
