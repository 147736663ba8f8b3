"""The person's own view (scope ``self``): status, receipts, export of everything held about
them, and erasure (identity erased, data key destroyed, ``consent.beneficiary_erased``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.consent.domain.grants import ended
from services.consent.domain.identity import Identity
from services.consent.handlers.common import SERVICE, ConsentContext, Forbidden, NotVisible, enforce
from shared.audit_trail import Access, Crude, record_access
from shared.auth import Principal
from shared.consent import events


def own_id(principal: Principal) -> str:
    if principal.role != "beneficiary" or not principal.beneficiary:
        raise Forbidden("this is the person's own view")
    return principal.beneficiary


def _audit(uow, principal: Principal, beneficiary_id: str, action: str, crude: Crude = "R",
           request_id: str | None = None) -> None:
    record_access(uow, principal, Access(action=action, crude=crude, beneficiary_id=beneficiary_id),
                  service=SERVICE, request_id=request_id)


def status(ctx: ConsentContext, principal: Principal, request_id: str | None) -> dict[str, Any]:
    beneficiary_id = own_id(principal)
    now = ctx.clock()
    with ctx.uow() as uow:
        person = uow.beneficiaries.get(beneficiary_id)
        if person is None:
            raise NotVisible(beneficiary_id)
        state = uow.consent_state(beneficiary_id)
        active = [g for g in (state.grants if state else ()) if g.active_at(now)]
        emergencies = [e for e in (state.emergencies if state else ()) if e.until > now]
        _audit(uow, principal, beneficiary_id, "self.status", request_id=request_id)
        uow.commit()
    return {"id": person.id, "registered_at": person.registered_at, "anonymous": person.anonymous,
            "epoch": state.epoch if state else 0, "active_grants": len(active),
            "exclusions": len(state.exclusions) if state else 0,
            "open_emergency_accesses": len(emergencies)}


def receipts(ctx: ConsentContext, principal: Principal, request_id: str | None) -> list[dict[str, Any]]:
    beneficiary_id = own_id(principal)
    with ctx.uow() as uow:
        if uow.beneficiaries.get(beneficiary_id) is None:
            raise NotVisible(beneficiary_id)
        found = uow.records.receipts_of(beneficiary_id)
        _audit(uow, principal, beneficiary_id, "self.receipts", request_id=request_id)
        uow.commit()
    return found


def exclusions(ctx: ConsentContext, principal: Principal, request_id: str | None) -> list[dict[str, Any]]:
    """Whom the person blocked, oldest first."""
    beneficiary_id = own_id(principal)
    with ctx.uow() as uow:
        if uow.beneficiaries.get(beneficiary_id) is None:
            raise NotVisible(beneficiary_id)
        found = uow.records.exclusions_of(beneficiary_id)
        _audit(uow, principal, beneficiary_id, "self.exclusions", request_id=request_id)
        uow.commit()
    return [{"id": x["id"], "kind": x["kind"], "target": x["target"], "created_at": x["created_at"],
             "lifted_at": x["lifted_at"]} for x in found]


def emergencies(ctx: ConsentContext, principal: Principal, request_id: str | None) -> list[dict[str, Any]]:
    """Every emergency access opened on the person's record: who, why, what, how long."""
    beneficiary_id = own_id(principal)
    with ctx.uow() as uow:
        if uow.beneficiaries.get(beneficiary_id) is None:
            raise NotVisible(beneficiary_id)
        found = uow.records.emergencies_of(beneficiary_id)
        _audit(uow, principal, beneficiary_id, "self.emergencies", request_id=request_id)
        uow.commit()
    return [{"id": e["id"], "professional": e["subject"], "organisation": e["organisation"],
             "profession": e["profession"], "reason_code": e["reason_code"],
             "categories": e["categories"].split(), "opened_at": e["opened_at"], "until": e["until"],
             "closed_at": e.get("closed_at")}
            for e in found]


def export(ctx: ConsentContext, principal: Principal, request_id: str | None) -> dict[str, Any]:
    """Everything the consent service holds about the person (GDPR art. 15), as JSON."""
    beneficiary_id = own_id(principal)
    with ctx.uow() as uow:
        person = uow.beneficiaries.get(beneficiary_id)
        if person is None:
            raise NotVisible(beneficiary_id)
        sealed = uow.beneficiaries.sealed_identity(beneficiary_id)
        identity = (Identity.from_document(ctx.keyring.open(beneficiary_id, sealed)).as_document()
                    if sealed else None)
        grants = []
        for latest in uow.grants.latest_of_person(beneficiary_id):
            grants.append([_version(v) for v in uow.grants.history(beneficiary_id, latest.grant_id)])
        document = {
            "beneficiary": {"id": person.id, "registered_at": person.registered_at.isoformat(),
                            "registered_by_organisation": person.registered_by_organisation,
                            "anonymous": person.anonymous},
            "identity": identity,
            "grants": grants,
            "exclusions": [_plain(x) for x in uow.records.exclusions_of(beneficiary_id)],
            "emergency_accesses": [_plain(e) for e in uow.records.emergencies_of(beneficiary_id)],
            "receipts": [_plain(r) for r in uow.records.receipts_of(beneficiary_id)],
            "policy_version": ctx.policy.version,
        }
        _audit(uow, principal, beneficiary_id, "self.export", "E", request_id)
        uow.commit()
    return document


def erase(ctx: ConsentContext, principal: Principal, request_id: str | None) -> dict[str, Any]:
    """Erase the identity, destroy the data key, end every grant, tell every service."""
    beneficiary_id = own_id(principal)
    now = ctx.clock()
    with ctx.uow() as uow:
        if uow.beneficiaries.get(beneficiary_id) is None:
            raise NotVisible(beneficiary_id)
        for latest in uow.grants.latest_of_person(beneficiary_id):
            if latest.status == "active":
                uow.grants.add(ended(latest, "revoked", principal.subject, now))
        uow.beneficiaries.erase(beneficiary_id, now)
        uow.records.forget_person(beneficiary_id)
        epoch = uow.beneficiaries.next_epoch(beneficiary_id)
        uow.emit(events.BENEFICIARY_ERASED, {"beneficiary_id": beneficiary_id, "epoch": epoch,
                                             "at": now.isoformat()}, correlation_id=request_id)
        _audit(uow, principal, beneficiary_id, "self.erase", "D", request_id)
        uow.commit()
    return {"erased_at": now, "enforcement": enforce(ctx, beneficiary_id, epoch).as_dict()}


def _version(version) -> dict[str, Any]:
    terms = version.terms
    return {
        "grant_id": terms.grant_id, "version": terms.version, "status": version.status,
        "grantee_kind": terms.grantee_kind, "grantee": terms.grantee,
        "categories": sorted(terms.categories), "purpose": terms.purpose,
        "actions": sorted(terms.actions), "valid_from": terms.valid_from.isoformat(),
        "valid_until": terms.valid_until.isoformat() if terms.valid_until else None,
        "method": version.obtained.method, "witness": version.obtained.witness,
        "form_reference": version.obtained.form_reference,
        "recorded_at": version.recorded_at.isoformat(),
    }


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def reach(ctx: ConsentContext, principal: Principal, language: str,
          request_id: str | None) -> list[dict[str, Any]]:
    """Who can see me right now: each active grant joined with the policy, i.e. per profession
    the categories that grant really opens (an exclusion closes everything for its target)."""
    from services.consent.domain.plain_language import CATEGORY_LABELS
    from shared.consent.vocabulary import professions

    beneficiary_id = own_id(principal)
    now = ctx.clock()
    with ctx.uow() as uow:
        if uow.beneficiaries.get(beneficiary_id) is None:
            raise NotVisible(beneficiary_id)
        state = uow.consent_state(beneficiary_id)
        _audit(uow, principal, beneficiary_id, "self.reach", request_id=request_id)
        uow.commit()
    if state is None:
        return []
    blocked = {(x.kind, x.target) for x in state.exclusions}
    vocabulary = professions()
    lines = []
    for grant in state.grants:
        if not grant.active_at(now):
            continue
        kind = "organisation" if grant.grantee_kind == "organisation" else "professional"
        if (kind, grant.grantee) in blocked:
            continue
        if grant.grantee_kind == "close_one":
            by_role = {"close_one": sorted(grant.categories & ctx.policy.reach("role", "close_one"))}
        else:
            by_role = {}
            for code in vocabulary.professions:
                allowed = set(ctx.policy.reach("profession", code))
                if grant.referent:
                    allowed |= ctx.policy.reach("referent", "referent")
                opened = sorted(grant.categories & allowed)
                if opened:
                    by_role[vocabulary.label(code, language)] = opened
        lines.append({
            "grant_id": grant.grant_id, "grantee_kind": grant.grantee_kind,
            "grantee": grant.grantee,
            "until": grant.valid_until.isoformat() if grant.valid_until else None,
            "can_see": {role: [CATEGORY_LABELS[c][language] for c in cats]
                        for role, cats in by_role.items()},
        })
    return lines
