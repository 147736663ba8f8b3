"""Registering a person (with their consent), their sealed identity, and finding them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.consent.domain.beneficiaries import Beneficiary
from services.consent.domain.grants import GrantRequest, new_grant
from services.consent.domain.identity import Identity, normalise_national_number
from services.consent.handlers.common import (
    SERVICE,
    ConsentContext,
    Enforcement,
    Forbidden,
    NotVisible,
    enforce,
    issue_receipt,
    visible_state,
)
from shared.audit_trail import Access, record_access
from shared.auth import Principal
from shared.consent import events
from shared.consent.decision import Question, decide


@dataclass(frozen=True)
class Registration:
    identity: Identity | None = None
    categories: tuple[str, ...] | None = None
    method: str = "in_person"
    form_reference: str | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class Registered:
    beneficiary: Beneficiary
    grant_id: str
    # Set when the caller asked to wait until the strict projections applied the first grant.
    enforcement: Enforcement | None = None


def register_beneficiary(ctx: ConsentContext, principal: Principal, request_id: str | None,
                         command: Registration | None = None, *, wait: bool = False) -> Registered:
    """A person who agreed is registered, with a first grant to the registering organisation
    (the categories they chose, or the policy's registration defaults; until ``valid_until``,
    or until withdrawn). With ``wait``, the answer comes once the strict projections (those
    every read is decided from) apply that grant, so the person can be read at once."""
    command = command or Registration()
    if not principal.organisation or principal.role not in ("professional", "system"):
        raise Forbidden("only a professional of an organisation may register a person")
    now = ctx.clock()
    identity = command.identity if command.identity and not command.identity.empty else None
    national_index = None
    if identity is not None and identity.national_number:
        digits = normalise_national_number(identity.national_number)
        identity = Identity(identity.given_name, identity.family_name, identity.birth_date, digits)
        national_index = ctx.keyring.national_number_index(digits)
    beneficiary = Beneficiary(principal.organisation, registered_at=now, anonymous=identity is None)
    grant = new_grant(
        beneficiary.id,
        GrantRequest(grantee_kind="organisation", grantee=principal.organisation,
                     categories=command.categories or ctx.policy.registration_defaults,
                     actions=("read", "write"), method=command.method,
                     form_reference=command.form_reference, valid_until=command.valid_until),
        recorded_by=principal.subject, witness=principal.subject, now=now,
    )
    with ctx.uow() as uow:
        if national_index and uow.beneficiaries.find_by_national_number_index(national_index):
            # Same answer as any other refusal: nothing says whom the number belongs to.
            raise Forbidden("this person cannot be registered again; ask for a share code")
        uow.beneficiaries.add(beneficiary)
        if identity is not None:
            sealed = ctx.keyring.seal(beneficiary.id, identity.as_document())
            uow.beneficiaries.store_identity(beneficiary.id, sealed, national_index)
        uow.publish(events.BENEFICIARY_REGISTERED,
                    {"beneficiary_id": beneficiary.id, "organisation": principal.organisation},
                    correlation_id=request_id)
        uow.grants.add(grant)
        epoch = uow.beneficiaries.next_epoch(beneficiary.id)
        uow.emit(events.GRANT_GIVEN, events.grant_given(beneficiary.id, grant.terms, epoch),
                 correlation_id=request_id)
        issue_receipt(ctx, uow, event="consent_given", beneficiary_id=beneficiary.id,
                      subject_ref=grant.grant_id, now=now, grant=grant)
        record_access(uow, principal, Access(action="beneficiary.register", crude="C",
                                             beneficiary_id=beneficiary.id, categories=("identity",)),
                      service=SERVICE, request_id=request_id)
        uow.commit()
    return Registered(beneficiary, grant.grant_id,
                      enforce(ctx, beneficiary.id, epoch) if wait else None)


def read_beneficiary(ctx: ConsentContext, beneficiary_id: str, principal: Principal,
                     request_id: str | None) -> Beneficiary:
    with ctx.uow() as uow:
        visible = True
        try:
            visible_state(uow, principal, beneficiary_id, ctx.clock())
            found = uow.beneficiaries.get(beneficiary_id)
            visible = found is not None
        except NotVisible:
            visible, found = False, None
        record_access(uow, principal, Access(
            action="beneficiary.read", crude="R", beneficiary_id=beneficiary_id,
            categories=(), outcome="permit" if visible else "deny",
            reason=None if visible else "no_relationship"), service=SERVICE, request_id=request_id)
        uow.commit()
    if not visible or found is None:
        raise NotVisible(beneficiary_id)
    return found


def read_identity(ctx: ConsentContext, beneficiary_id: str, principal: Principal,
                  request_id: str | None) -> Identity:
    """The decrypted identity, for an actor the decision function permits to read it."""
    from services.consent.handlers.common import actor_of

    now = ctx.clock()
    with ctx.uow() as uow:
        state = uow.consent_state(beneficiary_id)
        actor = actor_of(principal, uow.teams_of(principal.subject))
        decision = decide(state, actor, Question(beneficiary_id, "read", ("identity",),
                                                 "care_coordination", now), ctx.policy)
        verdict = decision.categories[0]
        record_access(uow, principal, Access(
            action="identity.read", crude="R", beneficiary_id=beneficiary_id,
            categories=("identity",), outcome="permit" if verdict.permitted else "deny",
            reason=verdict.reason), service=SERVICE, request_id=request_id)
        sealed = uow.beneficiaries.sealed_identity(beneficiary_id) if verdict.permitted else None
        uow.commit()
    if not verdict.permitted:
        raise NotVisible(beneficiary_id)
    if sealed is None:
        return Identity()  # an anonymous person
    return Identity.from_document(ctx.keyring.open(beneficiary_id, sealed))


def find_by_national_number(ctx: ConsentContext, national_number: str, principal: Principal,
                            request_id: str | None) -> str:
    """The pseudonym of the person with this number, only for someone with a relationship."""
    digits = normalise_national_number(national_number)
    index = ctx.keyring.national_number_index(digits)
    with ctx.uow() as uow:
        found = uow.beneficiaries.find_by_national_number_index(index)
        visible = False
        if found is not None:
            try:
                visible_state(uow, principal, found, ctx.clock())
                visible = True
            except NotVisible:
                visible = False
        record_access(uow, principal, Access(
            action="beneficiary.lookup", crude="R", beneficiary_id=found if visible else None,
            categories=("identity",), outcome="permit" if visible else "deny",
            reason=None if visible else "no_relationship"), service=SERVICE, request_id=request_id)
        uow.commit()
    if not visible or found is None:
        raise NotVisible("lookup")
    return found
