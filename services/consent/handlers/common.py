"""What every handler of the consent service shares: its context, its errors, the actor of a
token, receipts and the wait of a strict withdrawal."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.consent.adapters.keyring import Keyring
from services.consent.adapters.receipts import ReceiptSigner
from services.consent.adapters.unit_of_work import ConsentUnitOfWork
from services.consent.domain.grants import GrantVersion, has_relationship
from services.consent.settings import ConsentSettings
from shared.auth import Principal
from shared.consent.decision import Actor, ConsentState
from shared.consent.policy import Policy
from shared.consent.vocabulary import professions

SERVICE = "consent"
CONTROLLER = "Relais consent service"


class NotVisible(LookupError):
    """The person does not exist, or the caller may not know that they do: one answer for both."""


class Forbidden(PermissionError):
    """The caller is known to be allowed to see the person, but not to do this."""


class TooManyAttempts(RuntimeError):
    pass


@dataclass
class ConsentContext:
    settings: ConsentSettings
    keyring: Keyring
    signer: ReceiptSigner
    policy: Policy
    uow_factory: Callable[[], ConsentUnitOfWork]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def uow(self) -> ConsentUnitOfWork:
        return self.uow_factory()


def actor_of(principal: Principal, teams: frozenset[str] = frozenset()) -> Actor:
    return Actor(principal.subject, principal.role, principal.organisation,
                 principal.profession, teams)


def visible_state(uow: ConsentUnitOfWork, principal: Principal, beneficiary_id: str,
                  now: datetime) -> ConsentState:
    """The person's state, if the caller may know the person exists; else NotVisible."""
    state = uow.consent_state(beneficiary_id)
    actor = actor_of(principal, uow.teams_of(principal.subject))
    if not has_relationship(state, actor, now):
        raise NotVisible(beneficiary_id)
    assert state is not None
    return state


def issue_receipt(ctx: ConsentContext, uow: ConsentUnitOfWork, *, event: str,
                  beneficiary_id: str, subject_ref: str, now: datetime,
                  grant: GrantVersion | None = None, extra: dict[str, Any] | None = None) -> str:
    """Sign and keep a consent receipt for one change of consent."""
    receipt_id = str(uuid.uuid4())
    claims: dict[str, Any] = {
        "version": "KI-CR-v1.1.0",
        "schema": "ISO/IEC TS 27560:2023",
        "jurisdiction": "BE",
        "consentReceiptID": receipt_id,
        "iat": int(now.timestamp()),
        "consentTimestamp": now.isoformat(),
        "event": event,
        "piiPrincipalId": beneficiary_id,
        "piiControllers": [{"piiController": CONTROLLER}],
        "policyVersion": ctx.policy.version,
        "language": "fr,nl,en",
    }
    if grant is not None:
        terms = grant.terms
        mental = "mental_health_episodes" in terms.categories
        claims.update({
            "grant_id": terms.grant_id,
            "grant_version": terms.version,
            "collectionMethod": grant.obtained.method,
            "witness": grant.obtained.witness,
            "formReference": grant.obtained.form_reference,
            "services": [{
                "service": terms.purpose,
                "purposes": [{
                    "purpose": terms.purpose,
                    "consentType": "EXPLICIT",
                    "piiCategory": sorted(terms.categories),
                    "primaryPurpose": True,
                    "termination": terms.valid_until.isoformat() if terms.valid_until else None,
                    "thirdPartyDisclosure": True,
                    "thirdPartyName": f"{terms.grantee_kind}:{terms.grantee}",
                }],
            }],
            "period": {"from": terms.valid_from.isoformat(),
                       "until": terms.valid_until.isoformat() if terms.valid_until else None},
            "actions": sorted(terms.actions),
            "status": grant.status,
            "sensitive": mental,
            "spiCat": ["mental_health"] if mental else [],
        })
    claims.update(extra or {})
    token = ctx.signer.sign(claims)
    uow.records.add_receipt(id=receipt_id, beneficiary_id=beneficiary_id, subject_ref=subject_ref,
                            kind=event, issued_at=now, jws=token)
    return receipt_id


@dataclass(frozen=True)
class Enforcement:
    mode: str
    epoch: int
    confirmed: bool
    pending: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "epoch": self.epoch, "confirmed": self.confirmed,
                "pending": list(self.pending)}


def enforce(ctx: ConsentContext, beneficiary_id: str, epoch: int) -> Enforcement:
    """Strict mode: wait (bounded) until every listed projection acknowledged ``epoch``. The
    consent service's own decision view changed in the withdrawing transaction itself."""
    settings = ctx.settings
    if settings.withdrawal_mode != "strict" or not settings.strict_projections:
        return Enforcement(settings.withdrawal_mode, epoch, settings.withdrawal_mode == "strict")
    deadline = time.monotonic() + settings.strict_timeout_seconds
    while True:
        with ctx.uow() as uow:
            acks = uow.records.acknowledged(beneficiary_id)
        pending = tuple(p for p in settings.strict_projections if acks.get(p, -1) < epoch)
        if not pending:
            return Enforcement("strict", epoch, True)
        if time.monotonic() > deadline:
            return Enforcement("strict", epoch, False, pending)
        time.sleep(0.005)


def known_profession(code: str | None) -> bool:
    return code is None or code in professions()
