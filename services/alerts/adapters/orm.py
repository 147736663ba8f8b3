"""The alerts service's tables (its own database).

- ``journey_facts``: the journey entries the rules need, reduced to codes and times, from
  ``record.*`` events; a corrected or voided entry is marked replaced, never deleted, so last
  seen and the clocks can be folded again after a void.
- ``last_seen``: when each person was last met anywhere, and the last attempt (a read model).
- ``followers``: who follows each person (référent, care team), from the journey.
- ``clocks``: per person, rule and watched thing, the period it is about, when it warns and
  when it is due.
- ``clock_due``: the clocks with a step still to come (a warning, the alert), indexed by when:
  what the scan reads. Raising deletes the row.
- ``alerts``: one row per person, rule, watched thing and period (the id is derived from them),
  its state, escalation level and handling; ``next_at`` is the next escalation or the end of a
  snooze.
- ``alert_recipients``: who an alert was escalated to by name (coordinator, a professional).
- ``organisation_settings``, ``rule_overrides``: each organisation's coordinator, and the rule
  parameters an organisation or a person's référent set.
- ``webhooks``, ``webhook_deliveries``: organisations' targets (secrets sealed) and every
  delivery with its attempts; a delivery that failed every attempt stays as ``dead``.
- ``close_one_notices``: "your contact person has been asked to get in touch", per close one.
- the consent projection (``consent_*``), the outbox and processed events.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from shared.bus.schema import add_bus_tables
from shared.consent.projection import ConsentProjection
from shared.db.types import UtcDateTime

metadata = MetaData()

journey_facts = Table(
    "journey_facts",
    metadata,
    Column("entry_id", String(80), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("thread_id", String(36), nullable=True),
    Column("occurred_at", UtcDateTime(), nullable=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("codes", Text, nullable=False),
    Column("replaced", Boolean, nullable=False),
    Index("ix_journey_facts_person", "beneficiary_id"),
)

last_seen = Table(
    "last_seen",
    metadata,
    Column("beneficiary_id", String(36), primary_key=True),
    Column("last_seen_at", UtcDateTime(), nullable=True),
    Column("last_seen_entry_id", String(36), nullable=True),
    Column("last_attempt_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

followers = Table(
    "followers",
    metadata,
    Column("beneficiary_id", String(36), primary_key=True),
    Column("subject", String(120), primary_key=True),
    Column("role", String(20), nullable=False),  # referent | care_team
    Column("organisation", String(120), nullable=True),
    Column("profession", String(60), nullable=True),
    Index("ix_followers_subject", "subject"),
)

clocks = Table(
    "clocks",
    metadata,
    Column("clock_id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("rule", String(30), nullable=False),
    Column("subject_id", String(36), nullable=False),
    Column("organisation", String(120), nullable=True),
    Column("period", String(120), nullable=False),
    Column("anchor_at", UtcDateTime(), nullable=True),
    Column("variant", String(10), nullable=False),  # normal | short | paused
    Column("alert_id", String(36), nullable=False),
    Column("warn_at", UtcDateTime(), nullable=True),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_clocks_person", "beneficiary_id"),
)

clock_due = Table(
    "clock_due",
    metadata,
    Column("clock_id", String(36), primary_key=True),
    Column("next_at", UtcDateTime(), nullable=False),
    Column("step", String(10), nullable=False),  # warn | raise
    Column("alert_id", String(36), nullable=False),
    Column("beneficiary_id", String(36), nullable=False),
    Column("rule", String(30), nullable=False),
    Column("subject_id", String(36), nullable=False),
    Column("organisation", String(120), nullable=True),
    Column("period", String(120), nullable=False),
    Column("anchor_at", UtcDateTime(), nullable=True),
    Column("due_at", UtcDateTime(), nullable=False),
    Index("ix_clock_due_next", "next_at"),
    Index("ix_clock_due_person", "beneficiary_id"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("rule", String(30), nullable=False),
    Column("subject_id", String(36), nullable=False),
    Column("period", String(120), nullable=False),
    Column("organisation", String(120), nullable=True),
    Column("state", String(20), nullable=False),
    Column("audience", String(20), nullable=False),  # referent | care_team
    Column("level", Integer, nullable=False),
    Column("snoozes", Integer, nullable=False),
    Column("anchor_at", UtcDateTime(), nullable=True),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=True),
    Column("escalated_at", UtcDateTime(), nullable=True),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("acknowledged_by", String(120), nullable=True),
    Column("acknowledgement_reason", String(40), nullable=True),
    Column("reported_last_seen_on", Date, nullable=True),
    Column("snoozed_until", UtcDateTime(), nullable=True),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("resolved_by", String(120), nullable=True),
    Column("resolution", String(40), nullable=True),
    Column("next_at", UtcDateTime(), nullable=True),
    Column("changed_at", UtcDateTime(), nullable=False),
    Index("ix_alerts_person", "beneficiary_id", "state"),
    Index("ix_alerts_organisation", "organisation", "state"),
    Index("ix_alerts_next", "next_at", postgresql_where=text("next_at IS NOT NULL"),
          sqlite_where=text("next_at IS NOT NULL")),
)

alert_recipients = Table(
    "alert_recipients",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("subject", String(120), primary_key=True),
    Column("target", String(20), nullable=False),  # coordinator | professional
    Column("level", Integer, nullable=False),
    Column("added_at", UtcDateTime(), nullable=False),
    Index("ix_alert_recipients_subject", "subject"),
)

organisation_settings = Table(
    "organisation_settings",
    metadata,
    Column("organisation", String(120), primary_key=True),
    Column("coordinator", String(120), nullable=True),
    Column("updated_by", String(120), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

rule_overrides = Table(
    "rule_overrides",
    metadata,
    Column("level", String(20), primary_key=True),  # organisation | person
    Column("scope_id", String(120), primary_key=True),  # the organisation code or the person's id
    Column("rule", String(30), primary_key=True),
    Column("params", Text, nullable=False),
    Column("set_by", String(120), nullable=False),
    Column("set_at", UtcDateTime(), nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(36), primary_key=True),
    Column("organisation", String(120), nullable=False),
    Column("url", String(500), nullable=False),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("event_types", String(400), nullable=False),
    Column("profession", String(60), nullable=True),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("active", Boolean, nullable=False),
    Index("ix_webhooks_organisation", "organisation"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(36), primary_key=True),
    Column("webhook_id", String(36), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(60), nullable=False),
    Column("beneficiary_id", String(36), nullable=True),
    Column("body", Text, nullable=False),
    Column("state", String(20), nullable=False),  # pending | delivered | dead | withheld
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
    Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("state = 'pending'"),
          sqlite_where=text("state = 'pending'")),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "state"),
)

close_one_notices = Table(
    "close_one_notices",
    metadata,
    Column("notice_id", String(36), primary_key=True),
    Column("alert_id", String(36), nullable=False),
    Column("beneficiary_id", String(36), nullable=False),
    Column("close_one", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_close_one_notices_close_one", "close_one"),
    Index("ix_close_one_notices_alert", "alert_id"),
)

projection = ConsentProjection(metadata)
outbox, processed_events = add_bus_tables(metadata)
