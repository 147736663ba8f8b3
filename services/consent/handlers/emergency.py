"""Emergency access ("break the glass"): a professional with a reason code opens, for a few
hours, the categories they need. It never overrides an exclusion, stays within the policy, is
audited as an emergency and announced by an event the person and auditors see."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.consent.domain.identity import InvalidField
from services.consent.handlers.common import (
    SERVICE,
    ConsentContext,
    Enforcement,
    Forbidden,
    NotVisible,
    actor_of,
    enforce,
)
from shared.audit_trail import Access, record_access
from shared.auth import Principal
from shared.consent import events
from shared.consent.decision import EmergencyTerms

REASON_CODES = ("life_threatening", "medical_emergency", "missing_person", "safeguarding")


def open_emergency(ctx: ConsentContext, principal: Principal, beneficiary_id: str,
                   reason_code: str, categories: tuple[str, ...], hours: int,
                   request_id: str | None) -> EmergencyTerms:
    if principal.role != "professional":
        raise Forbidden("only a professional may open an emergency access")
    if reason_code not in REASON_CODES:
        raise InvalidField("reason_code", "unknown reason code")
    if not 1 <= hours <= ctx.settings.emergency_max_hours:
        raise InvalidField("hours", f"between 1 and {ctx.settings.emergency_max_hours} hours")
    now = ctx.clock()
    access = EmergencyTerms(str(uuid.uuid4()), principal.subject, frozenset(categories), now,
                            now + timedelta(hours=hours))
    with ctx.uow() as uow:
        state = uow.consent_state(beneficiary_id)
        actor = actor_of(principal, uow.teams_of(principal.subject))
        # An excluded professional learns nothing more than someone asking about nobody.
        if state is None or any(x.hits(actor) for x in state.exclusions):
            record_access(uow, principal, Access(
                action="emergency.open", crude="R", beneficiary_id=beneficiary_id,
                categories=categories, purpose="emergency", outcome="deny",
                reason=f"break_glass:{reason_code}"), service=SERVICE, request_id=request_id)
            uow.commit()
            raise NotVisible(beneficiary_id)
        uow.records.add_emergency(id=access.access_id, beneficiary_id=beneficiary_id,
                                  subject=principal.subject, organisation=principal.organisation,
                                  profession=principal.profession, reason_code=reason_code,
                                  categories=" ".join(sorted(categories)), opened_at=now,
                                  until=access.until)
        epoch = uow.beneficiaries.next_epoch(beneficiary_id)
        uow.emit(events.EMERGENCY_OPENED, events.emergency_opened(
            beneficiary_id, access, organisation=principal.organisation,
            profession=principal.profession, reason_code=reason_code, epoch=epoch),
            correlation_id=request_id)
        record_access(uow, principal, Access(
            action="emergency.open", crude="R", beneficiary_id=beneficiary_id,
            categories=categories, purpose="emergency", outcome="permit",
            reason=f"break_glass:{reason_code}"), service=SERVICE, request_id=request_id)
        uow.commit()
    return access


def close_emergency(ctx: ConsentContext, principal: Principal, beneficiary_id: str, access_id: str,
                    request_id: str | None) -> Enforcement:
    """End an emergency access before its time: the professional who opened it, or the person.
    Restrictive, like a withdrawal: strict mode answers once the projections enforce it."""
    now = ctx.clock()
    own = principal.role == "beneficiary" and principal.beneficiary == beneficiary_id
    with ctx.uow() as uow:
        found = uow.records.emergency(beneficiary_id, access_id)
        if found is None or not (own or found["subject"] == principal.subject):
            raise NotVisible(access_id)
        if found["closed_at"] is not None or found["until"] <= now:
            raise InvalidField("access_id", "this emergency access has ended already")
        uow.records.close_emergency(access_id, now, principal.subject)
        epoch = uow.beneficiaries.next_epoch(beneficiary_id)
        uow.emit(events.EMERGENCY_CLOSED, events.emergency_closed(beneficiary_id, access_id, now, epoch),
                 correlation_id=request_id)
        record_access(uow, principal, Access(
            action="emergency.close", crude="U", beneficiary_id=beneficiary_id,
            purpose="emergency", reason="closed_early"), service=SERVICE, request_id=request_id)
        uow.commit()
    return enforce(ctx, beneficiary_id, epoch)
