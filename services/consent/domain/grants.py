"""Grants: who may see which categories of a person, for which purpose, for how long, and how
the consent was obtained. A grant is never edited: each change is a new version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from services.consent.domain.identity import InvalidField
from shared.consent.decision import ConsentState, GrantTerms
from shared.consent.vocabulary import CATEGORIES, GRANTEE_KINDS, PURPOSES

METHODS = ("in_person", "signed_form", "self_service", "share_code")
TRANSITION_KINDS = ("hospital_discharge", "prison_release", "shelter_exit", "street_exit")
STATUSES = ("active", "revoked", "expired")


@dataclass(frozen=True)
class Obtained:
    method: str
    witness: str | None = None  # subject of the professional who witnessed it in person
    form_reference: str | None = None


@dataclass(frozen=True)
class GrantVersion:
    terms: GrantTerms
    beneficiary_id: str
    obtained: Obtained
    status: str
    recorded_at: datetime
    recorded_by: str
    transition_kind: str | None = None
    transition_days: int | None = None
    powers: tuple[str, ...] = ()

    @property
    def grant_id(self) -> str:
        return self.terms.grant_id


@dataclass(frozen=True)
class GrantRequest:
    grantee_kind: str
    grantee: str
    categories: tuple[str, ...]
    purpose: str = "care_coordination"
    actions: tuple[str, ...] = ("read",)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    transition_kind: str | None = None
    transition_days: int | None = None
    referent: bool = False
    method: str = "in_person"
    form_reference: str | None = None
    powers: tuple[str, ...] = field(default_factory=tuple)


def new_grant(beneficiary_id: str, request: GrantRequest, *, recorded_by: str,
              witness: str | None, now: datetime | None = None) -> GrantVersion:
    """The first version of a grant, after checking the rules a schema cannot express."""
    now = now or datetime.now(UTC)
    if request.grantee_kind not in GRANTEE_KINDS:
        raise InvalidField("grantee_kind", "unknown grantee kind")
    if set(request.categories) - set(CATEGORIES) or not request.categories:
        raise InvalidField("categories", "name one or more known categories")
    if request.purpose not in PURPOSES:
        raise InvalidField("purpose", "unknown purpose")
    valid_from = request.valid_from or now
    valid_until = request.valid_until
    if request.transition_kind is not None:
        if not request.transition_days:
            raise InvalidField("transition_days", "a grant bound to a transition needs its duration")
        bound = valid_from + timedelta(days=request.transition_days)
        valid_until = min(valid_until, bound) if valid_until else bound
    if valid_until is not None and valid_until <= valid_from:
        raise InvalidField("valid_until", "the period must end after it starts")
    if request.method == "signed_form" and not request.form_reference:
        raise InvalidField("form_reference", "a signed form needs its reference")
    if request.method == "in_person" and not witness:
        raise InvalidField("method", "consent given in person needs a witnessing professional")
    if request.referent and request.grantee_kind != "professional":
        raise InvalidField("referent", "only a named professional can be the référent")
    if request.powers and request.grantee_kind != "close_one":
        raise InvalidField("powers", "only a close one can be named a representative")
    if request.powers and valid_until is None:
        raise InvalidField("valid_until", "a representative's powers must end")
    terms = GrantTerms(
        grant_id=str(uuid.uuid4()), version=1, grantee_kind=request.grantee_kind,
        grantee=request.grantee, categories=frozenset(request.categories),
        purpose=request.purpose, actions=frozenset(request.actions), valid_from=valid_from,
        valid_until=valid_until, referent=request.referent,
    )
    return GrantVersion(
        terms=terms, beneficiary_id=beneficiary_id,
        obtained=Obtained(request.method, witness if request.method == "in_person" else None,
                          request.form_reference),
        status="active", recorded_at=now, recorded_by=recorded_by,
        transition_kind=request.transition_kind, transition_days=request.transition_days,
        powers=tuple(request.powers),
    )


def ended(version: GrantVersion, status: str, by: str, now: datetime) -> GrantVersion:
    """The next version of a grant that is revoked or expired."""
    terms = replace(version.terms, version=version.terms.version + 1)
    return replace(version, terms=terms, status=status, recorded_at=now, recorded_by=by)


def has_relationship(state: ConsentState | None, actor, now: datetime) -> bool:
    """Whether the actor holds an active grant on the person (any category) and is not
    excluded: the condition to know that the person exists at all."""
    if state is None:
        return False
    if any(x.hits(actor) for x in state.exclusions):
        return False
    if any(g.active_at(now) and g.names(actor) for g in state.grants):
        return True
    return any(e.open_for(actor, now) for e in state.emergencies)
