"""The record service's tables (its own database).

- ``journey_entries``: the journey, append-only (the database refuses UPDATE and DELETE). Only
  what a query needs is in clear: the person's pseudonymous id, kind, consent category, thread,
  the entry it supersedes, times and vocabulary version. Author and codes are sealed under the
  person's data key (``sealed``).
- ``entry_replacements``: which entry a correction or a void replaced (append-only too).
- ``threads``, ``people``: read models kept in the same transaction as each entry — where a
  step, episode, transition or activation stands (pointers to entries, no codes), when the
  person was last met, and the head of their timeline (sealed). Rebuilt from the entries if
  need be.
- ``person_keys``: each person's data key, wrapped by the record master key. Deleting the row
  shreds the person's journey.
- ``open_alerts``: alert ids per person, from ``alert.*`` events (the caseload's count).
- the consent projection (``consent_*``), the outbox and processed events.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, LargeBinary, MetaData, String, Table

from shared.bus.schema import add_bus_tables
from shared.consent.projection import ConsentProjection
from shared.db.types import UtcDateTime

metadata = MetaData()

APPEND_ONLY = ("journey_entries", "entry_replacements")

entries = Table(
    "journey_entries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("category", String(40), nullable=False),
    Column("thread_id", String(36), nullable=True),
    Column("supersedes", String(36), nullable=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("vocabulary_version", String(40), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Index("ix_journey_entries_timeline", "beneficiary_id", "occurred_at", "id"),
    Index("ix_journey_entries_thread", "thread_id"),
)

replacements = Table(
    "entry_replacements",
    metadata,
    Column("entry_id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("how", String(20), nullable=False),  # superseded | voided
    Column("by_entry_id", String(36), nullable=False),
    Index("ix_entry_replacements_beneficiary", "beneficiary_id"),
)

threads = Table(
    "threads",
    metadata,
    Column("thread_id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),  # step | episode | transition | activation
    Column("category", String(40), nullable=False),
    Column("parent_id", String(36), nullable=True),  # an activation's transition
    Column("head_entry_id", String(36), nullable=False),  # the opening entry (or its correction)
    Column("state_entry_id", String(36), nullable=False),  # the latest change (or the head)
    Column("open", Boolean, nullable=False),
    Column("voided", Boolean, nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("changed_at", UtcDateTime(), nullable=False),
    Index("ix_threads_person", "beneficiary_id", "kind", "open"),
    Index("ix_threads_parent", "parent_id"),
)

people = Table(
    "people",
    metadata,
    Column("beneficiary_id", String(36), primary_key=True),
    Column("last_met_at", UtcDateTime(), nullable=True),
    Column("last_met_entry_id", String(36), nullable=True),
    Column("last_attempt_at", UtcDateTime(), nullable=True),
    Column("last_attempt_entry_id", String(36), nullable=True),
    Column("referent_entry_id", String(36), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    # The newest of the person's current entries as the timeline shows them, sealed under their
    # data key (services/record/domain/timeline_head.py); kept by every write.
    Column("timeline_head", LargeBinary, nullable=True),
)

person_keys = Table(
    "person_keys",
    metadata,
    Column("beneficiary_id", String(36), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("master_key_id", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

open_alerts = Table(
    "open_alerts",
    metadata,
    Column("alert_id", String(80), primary_key=True),
    Column("beneficiary_id", String(36), nullable=False),
    Column("open", Boolean, nullable=False),
    Column("changed_at", UtcDateTime(), nullable=False),
    Index("ix_open_alerts_person", "beneficiary_id", "open"),
)

projection = ConsentProjection(metadata)
outbox, processed_events = add_bus_tables(metadata)
