"""The local projection of consent: tables any service adds to its own metadata.

The consent service keeps the same tables as its decision view (written in the transaction that
publishes the event); other services fill them from ``consent.*`` events. Grants and the other
rows carry the version or epoch of the event that wrote them, so an event that arrives late never
undoes a newer one."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

from shared.db.types import UtcDateTime


def add_consent_projection_tables(metadata: MetaData) -> dict[str, Table]:
    people = Table(
        "consent_people",
        metadata,
        Column("beneficiary_id", String(36), primary_key=True),
        Column("epoch", Integer, nullable=False),
        Column("erased", Boolean, nullable=False, default=False),
        # The person's active grants, exclusions and emergencies as one JSON document, rebuilt
        # on every event: a decision reads one row by primary key.
        Column("document", Text, nullable=True),
    )
    grants = Table(
        "consent_grants",
        metadata,
        Column("grant_id", String(36), primary_key=True),
        Column("beneficiary_id", String(36), nullable=False),
        Column("version", Integer, nullable=False),
        Column("grantee_kind", String(20), nullable=False),
        Column("grantee", String(200), nullable=False),
        Column("categories", String(400), nullable=False),
        Column("purpose", String(40), nullable=False),
        Column("actions", String(40), nullable=False),
        Column("valid_from", UtcDateTime(), nullable=False),
        Column("valid_until", UtcDateTime(), nullable=True),
        Column("referent", Boolean, nullable=False, default=False),
        Column("active", Boolean, nullable=False),
        Index("ix_consent_grants_beneficiary", "beneficiary_id"),
        Index("ix_consent_grants_grantee", "grantee_kind", "grantee"),
    )
    exclusions = Table(
        "consent_exclusions",
        metadata,
        Column("exclusion_id", String(36), primary_key=True),
        Column("beneficiary_id", String(36), nullable=False),
        Column("kind", String(20), nullable=False),
        Column("target", String(200), nullable=False),
        Column("active", Boolean, nullable=False),
        Index("ix_consent_exclusions_beneficiary", "beneficiary_id"),
    )
    emergencies = Table(
        "consent_emergencies",
        metadata,
        Column("access_id", String(36), primary_key=True),
        Column("beneficiary_id", String(36), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("categories", String(400), nullable=False),
        Column("opened_at", UtcDateTime(), nullable=False),
        Column("until", UtcDateTime(), nullable=False),
        Column("active", Boolean, nullable=False),
        Index("ix_consent_emergencies_beneficiary", "beneficiary_id"),
    )
    team_members = Table(
        "consent_team_members",
        metadata,
        Column("team_id", String(36), primary_key=True),
        Column("subject", String(200), primary_key=True),
        Index("ix_consent_team_members_subject", "subject"),
    )
    return {
        "people": people,
        "grants": grants,
        "exclusions": exclusions,
        "emergencies": emergencies,
        "team_members": team_members,
    }
