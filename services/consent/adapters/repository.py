"""Repositories of the consent service: plain rows in, domain objects out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from services.consent.adapters.keyring import SealedIdentity
from services.consent.adapters.orm import (
    beneficiaries,
    data_keys,
    grant_versions,
    identities,
    projection,
)
from services.consent.domain.beneficiaries import Beneficiary
from services.consent.domain.grants import GrantVersion, Obtained
from shared.consent.decision import GrantTerms


class BeneficiaryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, beneficiary: Beneficiary) -> None:
        self.session.execute(
            insert(beneficiaries).values(
                id=beneficiary.id,
                registered_at=beneficiary.registered_at,
                registered_by_organisation=beneficiary.registered_by_organisation,
                anonymous=beneficiary.anonymous,
            )
        )
        self.session.execute(insert(projection.people).values(
            beneficiary_id=beneficiary.id, epoch=0, erased=False))

    def get(self, beneficiary_id: str) -> Beneficiary | None:
        row = self.session.execute(
            select(beneficiaries).where(beneficiaries.c.id == beneficiary_id,
                                        beneficiaries.c.erased_at.is_(None))
        ).mappings().first()
        if row is None:
            return None
        return Beneficiary(
            id=row["id"],
            registered_at=row["registered_at"],
            registered_by_organisation=row["registered_by_organisation"],
            anonymous=row["anonymous"],
        )

    def next_epoch(self, beneficiary_id: str) -> int:
        """Raise the person's consent epoch (row-locked, so concurrent changes are ordered)."""
        people = projection.people
        current = self.session.execute(
            select(people.c.epoch).where(people.c.beneficiary_id == beneficiary_id).with_for_update()
        ).scalar_one()
        return int(current) + 1

    def store_identity(self, beneficiary_id: str, sealed: SealedIdentity, index: str | None) -> None:
        self.session.execute(delete(identities).where(identities.c.beneficiary_id == beneficiary_id))
        self.session.execute(delete(data_keys).where(data_keys.c.beneficiary_id == beneficiary_id))
        self.session.execute(insert(identities).values(
            beneficiary_id=beneficiary_id, ciphertext=sealed.ciphertext, national_number_index=index))
        self.session.execute(insert(data_keys).values(
            beneficiary_id=beneficiary_id, wrapped_key=sealed.wrapped_key,
            master_key_id=sealed.master_key_id))

    def sealed_identity(self, beneficiary_id: str) -> SealedIdentity | None:
        row = self.session.execute(
            select(identities.c.ciphertext, data_keys.c.wrapped_key, data_keys.c.master_key_id)
            .join(data_keys, data_keys.c.beneficiary_id == identities.c.beneficiary_id)
            .where(identities.c.beneficiary_id == beneficiary_id)
        ).first()
        return SealedIdentity(row.ciphertext, row.wrapped_key, row.master_key_id) if row else None

    def find_by_national_number_index(self, index: str) -> str | None:
        return self.session.execute(
            select(identities.c.beneficiary_id).where(identities.c.national_number_index == index)
        ).scalar()

    def erase(self, beneficiary_id: str, at: datetime) -> None:
        """Destroy the data key and the sealed identity; keep only the pseudonym, marked erased."""
        self.session.execute(delete(data_keys).where(data_keys.c.beneficiary_id == beneficiary_id))
        self.session.execute(delete(identities).where(identities.c.beneficiary_id == beneficiary_id))
        self.session.execute(update(beneficiaries).where(beneficiaries.c.id == beneficiary_id)
                             .values(erased_at=at, anonymous=True))


def _version_from_row(row) -> GrantVersion:
    terms = GrantTerms(
        grant_id=row.grant_id, version=row.version, grantee_kind=row.grantee_kind,
        grantee=row.grantee, categories=frozenset(row.categories.split()), purpose=row.purpose,
        actions=frozenset(row.actions.split()), valid_from=row.valid_from,
        valid_until=row.valid_until, referent=row.referent,
    )
    return GrantVersion(
        terms=terms, beneficiary_id=row.beneficiary_id,
        obtained=Obtained(row.method, row.witness, row.form_reference), status=row.status,
        recorded_at=row.recorded_at, recorded_by=row.recorded_by,
        transition_kind=row.transition_kind, transition_days=row.transition_days,
        powers=tuple(row.powers.split()),
    )


class GrantRepository:
    """Grant versions, append-only: a change inserts the next version, never updates one."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, version: GrantVersion) -> None:
        t = version.terms
        self.session.execute(insert(grant_versions).values(
            grant_id=t.grant_id, version=t.version, beneficiary_id=version.beneficiary_id,
            status=version.status, grantee_kind=t.grantee_kind, grantee=t.grantee,
            categories=" ".join(sorted(t.categories)), purpose=t.purpose,
            actions=" ".join(sorted(t.actions)), valid_from=t.valid_from,
            valid_until=t.valid_until, referent=t.referent,
            transition_kind=version.transition_kind, transition_days=version.transition_days,
            powers=" ".join(version.powers), method=version.obtained.method,
            witness=version.obtained.witness, form_reference=version.obtained.form_reference,
            recorded_at=version.recorded_at, recorded_by=version.recorded_by,
        ))

    def current(self, beneficiary_id: str, grant_id: str) -> GrantVersion | None:
        row = self.session.execute(
            select(grant_versions)
            .where(grant_versions.c.grant_id == grant_id,
                   grant_versions.c.beneficiary_id == beneficiary_id)
            .order_by(grant_versions.c.version.desc()).limit(1)
        ).first()
        return _version_from_row(row) if row else None

    def history(self, beneficiary_id: str, grant_id: str) -> list[GrantVersion]:
        rows = self.session.execute(
            select(grant_versions)
            .where(grant_versions.c.grant_id == grant_id,
                   grant_versions.c.beneficiary_id == beneficiary_id)
            .order_by(grant_versions.c.version)
        )
        return [_version_from_row(row) for row in rows]

    def latest_of_person(self, beneficiary_id: str) -> list[GrantVersion]:
        latest = (
            select(grant_versions.c.grant_id, func.max(grant_versions.c.version).label("v"))
            .where(grant_versions.c.beneficiary_id == beneficiary_id)
            .group_by(grant_versions.c.grant_id).subquery()
        )
        rows = self.session.execute(
            select(grant_versions).join(
                latest, (latest.c.grant_id == grant_versions.c.grant_id)
                & (latest.c.v == grant_versions.c.version))
            .order_by(grant_versions.c.recorded_at)
        )
        return [_version_from_row(row) for row in rows]

    def active_past(self, now: datetime, limit: int = 500) -> list[GrantVersion]:
        """Active grants whose period has ended: to be marked expired."""
        return [
            v for v in (
                self.current(row.beneficiary_id, row.grant_id)
                for row in self.session.execute(
                    select(grant_versions.c.beneficiary_id, grant_versions.c.grant_id)
                    .where(grant_versions.c.valid_until <= now, grant_versions.c.status == "active")
                    .limit(limit)
                )
            ) if v is not None and v.status == "active"
        ]
