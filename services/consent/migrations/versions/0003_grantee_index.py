"""Grants by grantee, for the caseload of a professional in every projection.

Revision ID: consent_0003
Revises: consent_0002
Create Date: 2026-12-01
"""

from shared.consent.migration_ops import create_grantee_index, drop_grantee_index

revision = "consent_0003"
down_revision = "consent_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_grantee_index()


def downgrade() -> None:
    drop_grantee_index()
