"""Journey facts, followers, clocks and their schedule, alerts and their handling, organisations' settings and
webhooks, close ones' notices, and the local consent projection that decides who sees an alert.

The walking skeleton's ``last_seen`` table stays as it was; its rows are kept.

Revision ID: alerts_0002
Revises: alerts_0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from shared.consent.migration_ops import (
    create_consent_projection_tables,
    create_grantee_index,
    drop_consent_projection_tables,
)

revision = "alerts_0002"
down_revision = "alerts_0001"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "journey_facts",
        sa.Column("entry_id", sa.String(80), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("thread_id", sa.String(36), nullable=True),
        _when("occurred_at"),
        _when("recorded_at", nullable=False),
        sa.Column("codes", sa.Text, nullable=False),
        sa.Column("replaced", sa.Boolean, nullable=False),
    )
    op.create_index("ix_journey_facts_person", "journey_facts", ["beneficiary_id"])
    op.create_table(
        "followers",
        sa.Column("beneficiary_id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(120), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Column("profession", sa.String(60), nullable=True),
    )
    op.create_index("ix_followers_subject", "followers", ["subject"])
    op.create_table(
        "clocks",
        sa.Column("clock_id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("rule", sa.String(30), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Column("period", sa.String(120), nullable=False),
        _when("anchor_at"),
        sa.Column("variant", sa.String(10), nullable=False),
        sa.Column("alert_id", sa.String(36), nullable=False),
        _when("warn_at"),
        _when("due_at"),
        _when("updated_at", nullable=False),
    )
    op.create_index("ix_clocks_person", "clocks", ["beneficiary_id"])
    op.create_table(
        "clock_due",
        sa.Column("clock_id", sa.String(36), primary_key=True),
        _when("next_at", nullable=False),
        sa.Column("step", sa.String(10), nullable=False),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("rule", sa.String(30), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Column("period", sa.String(120), nullable=False),
        _when("anchor_at"),
        _when("due_at", nullable=False),
    )
    op.create_index("ix_clock_due_next", "clock_due", ["next_at"])
    op.create_index("ix_clock_due_person", "clock_due", ["beneficiary_id"])
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("rule", sa.String(30), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("period", sa.String(120), nullable=False),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("snoozes", sa.Integer, nullable=False),
        _when("anchor_at"),
        _when("due_at"),
        _when("raised_at", nullable=False),
        _when("opened_at"),
        _when("escalated_at"),
        _when("acknowledged_at"),
        sa.Column("acknowledged_by", sa.String(120), nullable=True),
        sa.Column("acknowledgement_reason", sa.String(40), nullable=True),
        sa.Column("reported_last_seen_on", sa.Date, nullable=True),
        _when("snoozed_until"),
        _when("resolved_at"),
        sa.Column("resolved_by", sa.String(120), nullable=True),
        sa.Column("resolution", sa.String(40), nullable=True),
        _when("next_at"),
        _when("changed_at", nullable=False),
    )
    op.create_index("ix_alerts_person", "alerts", ["beneficiary_id", "state"])
    op.create_index("ix_alerts_organisation", "alerts", ["organisation", "state"])
    op.create_index("ix_alerts_next", "alerts", ["next_at"],
                    postgresql_where=sa.text("next_at IS NOT NULL"),
                    sqlite_where=sa.text("next_at IS NOT NULL"))
    op.create_table(
        "alert_recipients",
        sa.Column("alert_id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(120), primary_key=True),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        _when("added_at", nullable=False),
    )
    op.create_index("ix_alert_recipients_subject", "alert_recipients", ["subject"])
    op.create_table(
        "organisation_settings",
        sa.Column("organisation", sa.String(120), primary_key=True),
        sa.Column("coordinator", sa.String(120), nullable=True),
        sa.Column("updated_by", sa.String(120), nullable=False),
        _when("updated_at", nullable=False),
    )
    op.create_table(
        "rule_overrides",
        sa.Column("level", sa.String(20), primary_key=True),
        sa.Column("scope_id", sa.String(120), primary_key=True),
        sa.Column("rule", sa.String(30), primary_key=True),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("set_by", sa.String(120), nullable=False),
        _when("set_at", nullable=False),
    )
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(36), primary_key=True),
        sa.Column("organisation", sa.String(120), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary, nullable=False),
        sa.Column("event_types", sa.String(400), nullable=False),
        sa.Column("profession", sa.String(60), nullable=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        _when("created_at", nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_webhooks_organisation", "webhooks", ["organisation"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(36), primary_key=True),
        sa.Column("webhook_id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("beneficiary_id", sa.String(36), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _when("next_attempt_at"),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        _when("created_at", nullable=False),
        _when("finished_at"),
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["next_attempt_at"],
                    postgresql_where=sa.text("state = 'pending'"),
                    sqlite_where=sa.text("state = 'pending'"))
    op.create_index("ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "state"])
    op.create_table(
        "close_one_notices",
        sa.Column("notice_id", sa.String(36), primary_key=True),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("close_one", sa.String(200), nullable=False),
        _when("created_at", nullable=False),
    )
    op.create_index("ix_close_one_notices_close_one", "close_one_notices", ["close_one"])
    op.create_index("ix_close_one_notices_alert", "close_one_notices", ["alert_id"])
    create_consent_projection_tables()
    create_grantee_index()


def downgrade() -> None:
    drop_consent_projection_tables()
    for table in ("close_one_notices", "webhook_deliveries", "webhooks", "rule_overrides",
                  "organisation_settings", "alert_recipients", "alerts", "clock_due", "clocks",
                  "followers",
                  "journey_facts"):
        op.drop_table(table)
