"""The sealed, append-only journey and its read models, each person's data key, open alerts,
and the local consent projection every access is decided from.

The walking skeleton's ``entries`` table kept contacts in clear; its rows are sealed into
``journey_entries`` under their person's new data key (RECORD_MASTER_KEY or the key file under
RELAIS_VAR_DIR), then the old table goes.

Revision ID: record_0002
Revises: record_0001
Create Date: 2026-12-01
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from shared.consent.migration_ops import (
    create_consent_projection_tables,
    create_grantee_index,
    drop_consent_projection_tables,
)
from shared.db.append_only import allow_changes, refuse_changes

revision = "record_0002"
down_revision = "record_0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("journey_entries", "entry_replacements")


def upgrade() -> None:
    op.create_table(
        "journey_entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("thread_id", sa.String(36), nullable=True),
        sa.Column("supersedes", sa.String(36), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vocabulary_version", sa.String(40), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_journey_entries_timeline", "journey_entries",
                    ["beneficiary_id", "occurred_at", "id"])
    op.create_index("ix_journey_entries_thread", "journey_entries", ["thread_id"])
    op.create_table(
        "entry_replacements",
        sa.Column("entry_id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("how", sa.String(20), nullable=False),
        sa.Column("by_entry_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_entry_replacements_beneficiary", "entry_replacements", ["beneficiary_id"])
    op.create_table(
        "threads",
        sa.Column("thread_id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("head_entry_id", sa.String(36), nullable=False),
        sa.Column("state_entry_id", sa.String(36), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("voided", sa.Boolean, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_threads_person", "threads", ["beneficiary_id", "kind", "open"])
    op.create_index("ix_threads_parent", "threads", ["parent_id"])
    op.create_table(
        "people",
        sa.Column("beneficiary_id", sa.String(36), primary_key=True),
        sa.Column("last_met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_met_entry_id", sa.String(36), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_entry_id", sa.String(36), nullable=True),
        sa.Column("referent_entry_id", sa.String(36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "person_keys",
        sa.Column("beneficiary_id", sa.String(36), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("master_key_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "open_alerts",
        sa.Column("alert_id", sa.String(80), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_open_alerts_person", "open_alerts", ["beneficiary_id", "open"])
    create_consent_projection_tables()
    create_grantee_index()
    _seal_skeleton_entries()
    op.drop_index("ix_entries_timeline", table_name="entries")
    op.drop_table("entries")
    refuse_changes("record", APPEND_ONLY, what="the journey record")


def _seal_skeleton_entries() -> None:
    from services.record.adapters import orm
    from services.record.adapters.sealing import load_master_key, seal_entry
    from shared.crypto import KeyWrapper
    from shared.db.types import UtcDateTime

    old = sa.Table(
        "entries", sa.MetaData(),
        *(sa.Column(name, sa.String) for name in (
            "id", "beneficiary_id", "kind", "category", "author_subject", "author_organisation",
            "author_profession", "vocabulary_version", "payload")),
        sa.Column("occurred_at", UtcDateTime()), sa.Column("recorded_at", UtcDateTime()),
    )
    rows = op.get_bind().execute(sa.select(old)).all()
    if not rows:
        return
    var_dir = Path(os.environ.get("RELAIS_VAR_DIR", "var")).resolve()
    wrapper = KeyWrapper(load_master_key(os.environ.get("RECORD_MASTER_KEY") or None, var_dir / "keys"))
    keys: dict[str, bytes] = {}
    key_rows, entry_rows, now = [], [], datetime.now(UTC)
    for row in rows:
        if row.beneficiary_id not in keys:
            data_key, wrapped = wrapper.new_data_key(row.beneficiary_id)
            keys[row.beneficiary_id] = data_key
            key_rows.append({"beneficiary_id": row.beneficiary_id, "wrapped_key": wrapped,
                             "master_key_id": wrapper.master_key_id, "created_at": now})
        body = json.loads(row.payload)
        document = {"author": {"subject": row.author_subject, "organisation": row.author_organisation,
                               "profession": row.author_profession},
                    "body": {"modality": body.get("modality"), "outcome": body.get("outcome"),
                             "duration_minutes": body.get("duration_minutes")}}
        entry_rows.append({
            "id": row.id, "beneficiary_id": row.beneficiary_id, "kind": row.kind,
            "category": row.category, "thread_id": None, "supersedes": None,
            "occurred_at": row.occurred_at, "recorded_at": row.recorded_at,
            "vocabulary_version": row.vocabulary_version,
            "sealed": seal_entry(keys[row.beneficiary_id], row.beneficiary_id, row.id, document),
        })
    op.bulk_insert(orm.person_keys, key_rows)
    op.bulk_insert(orm.entries, entry_rows)
    # The read model of when each person was last met, or last tried.
    people: dict[str, dict] = {}
    for row in rows:
        outcome = json.loads(row.payload).get("outcome")
        person = people.setdefault(row.beneficiary_id, {
            "beneficiary_id": row.beneficiary_id, "last_met_at": None, "last_met_entry_id": None,
            "last_attempt_at": None, "last_attempt_entry_id": None, "referent_entry_id": None,
            "updated_at": now})
        field = "last_met" if outcome == "met" else "last_attempt"
        if person[f"{field}_at"] is None or row.occurred_at >= person[f"{field}_at"]:
            person[f"{field}_at"], person[f"{field}_entry_id"] = row.occurred_at, row.id
    op.bulk_insert(orm.people, list(people.values()))


def downgrade() -> None:
    allow_changes("record", APPEND_ONLY)
    op.create_table(
        "entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_subject", sa.String(120), nullable=False),
        sa.Column("author_organisation", sa.String(120), nullable=True),
        sa.Column("author_profession", sa.String(60), nullable=True),
        sa.Column("vocabulary_version", sa.String(20), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_entries_timeline", "entries", ["beneficiary_id", "occurred_at", "id"])
    drop_consent_projection_tables()
    for table in ("open_alerts", "person_keys", "people", "threads", "entry_replacements",
                  "journey_entries"):
        op.drop_table(table)
