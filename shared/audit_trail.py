"""The audit event every service writes for every access, through its own outbox.

``record_access`` is called inside the unit of work of the access itself, so the access and
its audit event commit together or not at all (reads included). The payload carries ids,
codes and times only: who (subject, role, organisation, profession, client, token id), what
(action and its CRUDE letter), on whom (pseudonymous id), which categories and entries, why
(purpose), the outcome and its reason, and the request id; when known, the consent the decision
relied on (grant id and version) and the reason code of an emergency access.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from shared.auth import Principal
from shared.db.unit_of_work import UnitOfWork

AUDIT_EVENT_TYPE = "audit.access_recorded"
Outcome = Literal["permit", "deny", "error"]
Crude = Literal["C", "R", "U", "D", "E"]


@dataclass(frozen=True)
class Access:
    action: str
    crude: Crude
    beneficiary_id: str | None
    categories: tuple[str, ...] = ()
    entry_ids: tuple[str, ...] = ()
    purpose: str = "care_coordination"
    outcome: Outcome = "permit"
    reason: str | None = None
    # Optional: the consent the decision relied on, and the reason code of an emergency access.
    consent_grant_id: str | None = None
    consent_version: int | None = None
    emergency_reason: str | None = None


def actor_of(principal: Principal | None) -> dict[str, str | None]:
    if principal is None:
        return {"subject": None, "role": None, "organisation": None, "profession": None,
                "client_id": None, "token_id": None}
    return {
        "subject": principal.subject,
        "role": principal.role,
        "organisation": principal.organisation,
        "profession": principal.profession,
        "client_id": principal.client_id,
        "token_id": principal.token_id,
    }


def record_access(
    uow: UnitOfWork,
    principal: Principal | None,
    access: Access,
    *,
    service: str,
    request_id: str | None,
) -> None:
    payload: dict[str, Any] = {
        "actor": actor_of(principal),
        "action": access.action,
        "crude": access.crude,
        "beneficiary_id": access.beneficiary_id,
        "categories": sorted(set(access.categories)),
        "entry_ids": list(access.entry_ids),
        "purpose": access.purpose,
        "outcome": access.outcome,
        "reason": access.reason,
        "service": service,
        "request_id": request_id,
    }
    if access.consent_grant_id is not None:
        payload["consent"] = {"grant_id": access.consent_grant_id, "version": access.consent_version}
    if access.emergency_reason is not None:
        payload["emergency_reason"] = access.emergency_reason
    uow.publish(AUDIT_EVENT_TYPE, payload, correlation_id=request_id)


def categories(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))
