"""Alembic operations that create the consent projection tables in a service's migration."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_consent_projection_tables() -> None:
    op.create_table(
        "consent_people",
        sa.Column("beneficiary_id", sa.String(36), primary_key=True),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("erased", sa.Boolean, nullable=False),
        sa.Column("document", sa.Text, nullable=True),
    )
    op.create_table(
        "consent_grants",
        sa.Column("grant_id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("grantee_kind", sa.String(20), nullable=False),
        sa.Column("grantee", sa.String(200), nullable=False),
        sa.Column("categories", sa.String(400), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("actions", sa.String(40), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referent", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_consent_grants_beneficiary", "consent_grants", ["beneficiary_id"])
    op.create_table(
        "consent_exclusions",
        sa.Column("exclusion_id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_consent_exclusions_beneficiary", "consent_exclusions", ["beneficiary_id"])
    op.create_table(
        "consent_emergencies",
        sa.Column("access_id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("categories", sa.String(400), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_consent_emergencies_beneficiary", "consent_emergencies", ["beneficiary_id"])
    op.create_table(
        "consent_team_members",
        sa.Column("team_id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
    )
    op.create_index("ix_consent_team_members_subject", "consent_team_members", ["subject"])


def create_grantee_index() -> None:
    """Grants by grantee: a professional's caseload is found without reading every grant."""
    op.create_index("ix_consent_grants_grantee", "consent_grants", ["grantee_kind", "grantee"])


def drop_grantee_index() -> None:
    op.drop_index("ix_consent_grants_grantee", table_name="consent_grants")


def drop_consent_projection_tables() -> None:
    op.drop_table("consent_team_members")
    op.drop_table("consent_emergencies")
    op.drop_table("consent_exclusions")
    op.drop_table("consent_grants")
    op.drop_table("consent_people")
