"""The ``consent.*`` events: ids, codes and times only, never identity. One place builds their
payloads (the consent service) and one place reads them (the projection)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.consent.decision import EmergencyTerms, ExclusionTerms, GrantTerms

BENEFICIARY_REGISTERED = "consent.beneficiary_registered"
GRANT_GIVEN = "consent.grant_given"
GRANT_REVOKED = "consent.grant_revoked"
GRANT_EXPIRED = "consent.grant_expired"
EXCLUSION_ADDED = "consent.exclusion_added"
EXCLUSION_LIFTED = "consent.exclusion_lifted"
EMERGENCY_OPENED = "consent.emergency_opened"
EMERGENCY_CLOSED = "consent.emergency_closed"
TEAM_MEMBER_ADDED = "consent.team_member_added"
TEAM_MEMBER_REMOVED = "consent.team_member_removed"
BENEFICIARY_ERASED = "consent.beneficiary_erased"
# What a projection publishes once it applied an event that carries an epoch:
# "<its service>.consent_applied", consumed by the consent service for strict withdrawal.
APPLIED_SUFFIX = ".consent_applied"


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def grant_given(beneficiary_id: str, grant: GrantTerms, epoch: int) -> dict[str, Any]:
    return {
        "beneficiary_id": beneficiary_id,
        "grant_id": grant.grant_id,
        "version": grant.version,
        "grantee_kind": grant.grantee_kind,
        "grantee": grant.grantee,
        "categories": sorted(grant.categories),
        "purpose": grant.purpose,
        "actions": sorted(grant.actions),
        "valid_from": _time(grant.valid_from),
        "valid_until": _time(grant.valid_until),
        "referent": grant.referent,
        "epoch": epoch,
    }


def grant_ended(beneficiary_id: str, grant_id: str, version: int, epoch: int,
                at: datetime) -> dict[str, Any]:
    return {"beneficiary_id": beneficiary_id, "grant_id": grant_id, "version": version,
            "epoch": epoch, "at": _time(at)}


def exclusion_added(beneficiary_id: str, exclusion: ExclusionTerms, epoch: int) -> dict[str, Any]:
    return {"beneficiary_id": beneficiary_id, "exclusion_id": exclusion.exclusion_id,
            "kind": exclusion.kind, "target": exclusion.target, "epoch": epoch}


def emergency_opened(beneficiary_id: str, emergency: EmergencyTerms, *, organisation: str | None,
                     profession: str | None, reason_code: str, epoch: int) -> dict[str, Any]:
    return {
        "beneficiary_id": beneficiary_id,
        "access_id": emergency.access_id,
        "subject": emergency.subject,
        "organisation": organisation,
        "profession": profession,
        "reason_code": reason_code,
        "categories": sorted(emergency.categories),
        "opened_at": _time(emergency.opened_at),
        "until": _time(emergency.until),
        "severity": "high",
        "epoch": epoch,
    }


def exclusion_lifted(beneficiary_id: str, exclusion_id: str, at: datetime) -> dict[str, Any]:
    """Lifting a block opens access again: no epoch, as nothing has to be enforced at once."""
    return {"beneficiary_id": beneficiary_id, "exclusion_id": exclusion_id, "at": _time(at)}


def emergency_closed(beneficiary_id: str, access_id: str, at: datetime, epoch: int) -> dict[str, Any]:
    return {"beneficiary_id": beneficiary_id, "access_id": access_id, "at": _time(at), "epoch": epoch}
