"""Giving, revoking and expiring grants; exclusions; care-team membership. Every restrictive
change raises the person's consent epoch, is applied to the decision view in the same
transaction, publishes its event and issues a signed receipt."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from services.consent.adapters.unit_of_work import ConsentUnitOfWork
from services.consent.domain.grants import GrantRequest, GrantVersion, ended, new_grant
from services.consent.domain.identity import InvalidField
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
from shared.consent.decision import ConsentState, ExclusionTerms
from shared.consent.vocabulary import EXCLUSION_KINDS


def _is_self(principal: Principal, beneficiary_id: str) -> bool:
    return principal.role == "beneficiary" and principal.beneficiary == beneficiary_id


def _proxy_powers(state: ConsentState, uow: ConsentUnitOfWork, principal: Principal,
                  beneficiary_id: str, now: datetime) -> bool:
    """Whether a close one is the person's representative right now (scoped, time-limited)."""
    for version in uow.grants.latest_of_person(beneficiary_id):
        terms = version.terms
        if (version.status == "active" and terms.grantee_kind == "close_one"
                and terms.grantee == principal.subject and "manage" in version.powers
                and terms.active_at(now)):
            return True
    return False


def authority(ctx: ConsentContext, uow: ConsentUnitOfWork, principal: Principal,
              beneficiary_id: str, now: datetime) -> str:
    """Who may change a person's consent: the person, a professional who holds a grant on them
    (recording what the person said), or their representative. Returns how ("self",
    "professional", "proxy"); NotVisible for anyone who may not know the person exists."""
    if _is_self(principal, beneficiary_id):
        if uow.beneficiaries.get(beneficiary_id) is None:
            raise NotVisible(beneficiary_id)
        return "self"
    state = visible_state(uow, principal, beneficiary_id, now)
    if principal.role in ("professional", "system"):
        return "professional"
    if principal.role == "close_one" and _proxy_powers(state, uow, principal, beneficiary_id, now):
        return "proxy"
    raise Forbidden("only the person, their representative or a professional can change this")


def record_new_grant(ctx: ConsentContext, uow: ConsentUnitOfWork, principal: Principal,
                     beneficiary_id: str, request: GrantRequest, *, witness: str | None,
                     request_id: str | None, now: datetime) -> tuple[GrantVersion, int]:
    """Write a grant's first version, apply and publish it, sign its receipt, audit it.
    Returns the grant and the person's consent epoch it raised."""
    grant = new_grant(beneficiary_id, request, recorded_by=principal.subject, witness=witness,
                      now=now)
    uow.grants.add(grant)
    epoch = uow.beneficiaries.next_epoch(beneficiary_id)
    uow.emit(events.GRANT_GIVEN, events.grant_given(beneficiary_id, grant.terms, epoch),
             correlation_id=request_id)
    issue_receipt(ctx, uow, event="consent_given", beneficiary_id=beneficiary_id,
                  subject_ref=grant.grant_id, now=now, grant=grant)
    record_access(uow, principal, Access(
        action="grant.give", crude="C", beneficiary_id=beneficiary_id,
        categories=tuple(request.categories)), service=SERVICE, request_id=request_id)
    return grant, epoch


def give_grant(ctx: ConsentContext, principal: Principal, beneficiary_id: str,
               request: GrantRequest, request_id: str | None) -> GrantVersion:
    now = ctx.clock()
    with ctx.uow() as uow:
        how = authority(ctx, uow, principal, beneficiary_id, now)
        if how in ("self", "proxy"):
            if request.method not in ("self_service",):
                request = replace(request, method="self_service")
            if how == "proxy" and request.grantee_kind == "close_one" and request.grantee == principal.subject:
                raise Forbidden("a representative cannot widen their own grant")
        elif request.method == "self_service":
            raise InvalidField("method", "a professional records consent in person or by signed form")
        grant, _epoch = record_new_grant(ctx, uow, principal, beneficiary_id, request,
                                         witness=principal.subject if how == "professional" else None,
                                         request_id=request_id, now=now)
        uow.commit()
    return grant


def revoke_grant(ctx: ConsentContext, principal: Principal, beneficiary_id: str, grant_id: str,
                 request_id: str | None) -> tuple[GrantVersion, Enforcement]:
    """Withdraw a grant. Effective in this service when the call commits; in strict mode the
    call returns once every listed projection acknowledged the new epoch."""
    now = ctx.clock()
    with ctx.uow() as uow:
        how = authority(ctx, uow, principal, beneficiary_id, now)
        current = uow.grants.current(beneficiary_id, grant_id)
        if current is None:
            raise NotVisible(grant_id)
        if current.status != "active":
            raise Forbidden("this grant has already ended")
        if how == "proxy" and current.terms.grantee == principal.subject:
            raise Forbidden("a representative cannot change their own grant")
        revoked = ended(current, "revoked", principal.subject, now)
        uow.grants.add(revoked)
        epoch = uow.beneficiaries.next_epoch(beneficiary_id)
        uow.emit(events.GRANT_REVOKED,
                 events.grant_ended(beneficiary_id, grant_id, revoked.terms.version, epoch, now),
                 correlation_id=request_id)
        issue_receipt(ctx, uow, event="consent_withdrawn", beneficiary_id=beneficiary_id,
                      subject_ref=grant_id, now=now, grant=revoked)
        record_access(uow, principal, Access(
            action="grant.revoke", crude="U", beneficiary_id=beneficiary_id,
            categories=tuple(current.terms.categories)), service=SERVICE, request_id=request_id)
        uow.commit()
    return revoked, enforce(ctx, beneficiary_id, epoch)


def expire_due_grants(ctx: ConsentContext, request_id: str | None = None) -> int:
    """Mark grants whose period ended as expired and publish it (decisions already deny them
    from the end of their period: this records it and tells everyone)."""
    now = ctx.clock()
    count = 0
    with ctx.uow() as uow:
        for version in uow.grants.active_past(now):
            expired = ended(version, "expired", "system:expiry", now)
            uow.grants.add(expired)
            epoch = uow.beneficiaries.next_epoch(version.beneficiary_id)
            uow.emit(events.GRANT_EXPIRED, events.grant_ended(
                version.beneficiary_id, version.grant_id, expired.terms.version, epoch, now),
                correlation_id=request_id)
            issue_receipt(ctx, uow, event="consent_expired", beneficiary_id=version.beneficiary_id,
                          subject_ref=version.grant_id, now=now, grant=expired)
            count += 1
        uow.commit()
    return count


def list_grants(ctx: ConsentContext, principal: Principal, beneficiary_id: str,
                request_id: str | None) -> list[GrantVersion]:
    now = ctx.clock()
    with ctx.uow() as uow:
        try:
            if not _is_self(principal, beneficiary_id):
                visible_state(uow, principal, beneficiary_id, now)
            elif uow.beneficiaries.get(beneficiary_id) is None:
                raise NotVisible(beneficiary_id)
        except NotVisible:
            record_access(uow, principal, Access(action="grant.list", crude="R",
                                                 beneficiary_id=beneficiary_id, outcome="deny",
                                                 reason="no_relationship"),
                          service=SERVICE, request_id=request_id)
            uow.commit()
            raise
        found = uow.grants.latest_of_person(beneficiary_id)
        record_access(uow, principal, Access(action="grant.list", crude="R",
                                             beneficiary_id=beneficiary_id),
                      service=SERVICE, request_id=request_id)
        uow.commit()
    return found


def grant_history(ctx: ConsentContext, principal: Principal, beneficiary_id: str, grant_id: str,
                  request_id: str | None) -> list[GrantVersion]:
    now = ctx.clock()
    with ctx.uow() as uow:
        if not _is_self(principal, beneficiary_id):
            visible_state(uow, principal, beneficiary_id, now)
        history = uow.grants.history(beneficiary_id, grant_id)
        record_access(uow, principal, Access(action="grant.history", crude="R",
                                             beneficiary_id=beneficiary_id),
                      service=SERVICE, request_id=request_id)
        uow.commit()
    if not history:
        raise NotVisible(grant_id)
    return history


def add_exclusion(ctx: ConsentContext, principal: Principal, beneficiary_id: str, kind: str,
                  target: str, request_id: str | None) -> tuple[str, Enforcement]:
    """Block a named professional or an organisation: overrides every grant and emergency."""
    if kind not in EXCLUSION_KINDS:
        raise InvalidField("kind", "unknown exclusion kind")
    now = ctx.clock()
    exclusion = ExclusionTerms(str(uuid.uuid4()), kind, target)
    with ctx.uow() as uow:
        authority(ctx, uow, principal, beneficiary_id, now)
        uow.records.add_exclusion(id=exclusion.exclusion_id, beneficiary_id=beneficiary_id,
                                  kind=kind, target=target, created_at=now,
                                  created_by=principal.subject)
        epoch = uow.beneficiaries.next_epoch(beneficiary_id)
        uow.emit(events.EXCLUSION_ADDED, events.exclusion_added(beneficiary_id, exclusion, epoch),
                 correlation_id=request_id)
        issue_receipt(ctx, uow, event="exclusion_added", beneficiary_id=beneficiary_id,
                      subject_ref=exclusion.exclusion_id, now=now,
                      extra={"exclusion": {"kind": kind, "target": target}})
        record_access(uow, principal, Access(action="exclusion.add", crude="C",
                                             beneficiary_id=beneficiary_id),
                      service=SERVICE, request_id=request_id)
        uow.commit()
    return exclusion.exclusion_id, enforce(ctx, beneficiary_id, epoch)


def lift_exclusion(ctx: ConsentContext, principal: Principal, beneficiary_id: str, exclusion_id: str,
                   request_id: str | None) -> None:
    """The person (or whoever may change their consent) lifts a block. Nothing has to be
    enforced at once, so it answers without waiting for the projections."""
    now = ctx.clock()
    with ctx.uow() as uow:
        authority(ctx, uow, principal, beneficiary_id, now)
        found = uow.records.exclusion(beneficiary_id, exclusion_id)
        if found is None or found["lifted_at"] is not None:
            raise NotVisible(exclusion_id)
        uow.records.lift_exclusion(exclusion_id, now, principal.subject)
        uow.emit(events.EXCLUSION_LIFTED, events.exclusion_lifted(beneficiary_id, exclusion_id, now),
                 correlation_id=request_id)
        issue_receipt(ctx, uow, event="exclusion_lifted", beneficiary_id=beneficiary_id,
                      subject_ref=exclusion_id, now=now,
                      extra={"exclusion": {"kind": found["kind"], "target": found["target"]}})
        record_access(uow, principal, Access(action="exclusion.lift", crude="U",
                                             beneficiary_id=beneficiary_id),
                      service=SERVICE, request_id=request_id)
        uow.commit()


def add_team_member(ctx: ConsentContext, principal: Principal, team_id: str, subject: str,
                    request_id: str | None) -> None:
    if principal.role not in ("professional", "admin"):
        raise Forbidden("only a professional or an administrator manages care teams")
    with ctx.uow() as uow:
        members = uow.records.team_members(team_id)
        if principal.role != "admin" and members and principal.subject not in members:
            raise Forbidden("only a member of the team can add someone to it")
        uow.emit(events.TEAM_MEMBER_ADDED, {"team_id": team_id, "subject": subject},
                 correlation_id=request_id)
        uow.commit()

