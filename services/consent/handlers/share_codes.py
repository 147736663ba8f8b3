"""Share codes: the person (or a professional with them) creates a short one-time code that a
new professional redeems to receive the grant the person chose. Codes expire in minutes, are
kept only as a keyed digest, and wrong attempts are limited per professional."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime, timedelta

from services.consent.domain.grants import GrantRequest, GrantVersion
from services.consent.handlers.common import (
    SERVICE,
    ConsentContext,
    Enforcement,
    Forbidden,
    NotVisible,
    TooManyAttempts,
    enforce,
)
from services.consent.handlers.grants import authority, record_new_grant
from shared.audit_trail import Access, record_access
from shared.auth import Principal

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read out and type
ATTEMPT_WINDOW = timedelta(minutes=15)


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def create_share_code(ctx: ConsentContext, principal: Principal, beneficiary_id: str,
                      categories: tuple[str, ...], actions: tuple[str, ...], days: int,
                      grantee_kind: str, request_id: str | None) -> tuple[str, datetime]:
    if grantee_kind not in ("professional", "organisation"):
        raise Forbidden("a share code gives a grant to a professional or their organisation")
    now = ctx.clock()
    code = new_code()
    expires = now + timedelta(minutes=ctx.settings.share_code_minutes)
    terms = {"categories": list(categories), "actions": list(actions), "days": days,
             "grantee_kind": grantee_kind}
    with ctx.uow() as uow:
        authority(ctx, uow, principal, beneficiary_id, now)
        uow.records.add_share_code(id=str(uuid.uuid4()), code_hash=ctx.keyring.code_digest(code),
                                   beneficiary_id=beneficiary_id, terms=json.dumps(terms),
                                   created_by=principal.subject, created_at=now, expires_at=expires)
        record_access(uow, principal, Access(action="share_code.create", crude="C",
                                             beneficiary_id=beneficiary_id, categories=categories),
                      service=SERVICE, request_id=request_id)
        uow.commit()
    return code, expires


def redeem_share_code(ctx: ConsentContext, principal: Principal, code: str,
                      request_id: str | None, *, wait: bool = False) -> tuple[GrantVersion, Enforcement | None]:
    """The grant the code carries, to the redeeming professional (or their organisation). With
    ``wait``, the answer comes once the strict projections apply it (see ``enforce``), so the
    person is in the redeemer's caseload as soon as the call returns."""
    if principal.role != "professional":
        raise Forbidden("a share code is redeemed by a professional")
    now = ctx.clock()
    with ctx.uow() as uow:
        if uow.records.failures_since(principal.subject, now - ATTEMPT_WINDOW) >= \
                ctx.settings.share_code_max_attempts:
            raise TooManyAttempts("too many wrong codes; try again later")
        found = uow.records.share_code(ctx.keyring.code_digest(code))
        usable = found is not None and found["expires_at"] > now and found["used_at"] is None
        if not usable or not uow.records.use_share_code(found["id"], now):
            uow.records.add_failure(principal.subject, now)
            record_access(uow, principal, Access(action="share_code.redeem", crude="C",
                                                 beneficiary_id=None, outcome="deny",
                                                 reason="unknown_code"),
                          service=SERVICE, request_id=request_id)
            uow.commit()
            raise NotVisible("share code")
        terms = json.loads(found["terms"])
        grantee = principal.subject if terms["grantee_kind"] == "professional" else principal.organisation
        if not grantee:
            raise Forbidden("this code gives a grant to an organisation; your token names none")
        request = GrantRequest(
            grantee_kind=terms["grantee_kind"], grantee=grantee,
            categories=tuple(terms["categories"]), actions=tuple(terms["actions"]),
            valid_from=now, valid_until=now + timedelta(days=int(terms["days"])),
            method="share_code",
        )
        grant, epoch = record_new_grant(ctx, uow, principal, found["beneficiary_id"], request,
                                        witness=None, request_id=request_id, now=now)
        uow.commit()
    return grant, enforce(ctx, grant.beneficiary_id, epoch) if wait else None

