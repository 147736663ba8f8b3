"""Reading and writing journey entries."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.record.adapters.orm import entries
from services.record.domain import contacts
from services.record.domain.contacts import Contact


class EntryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_contact(self, contact: Contact) -> None:
        self.session.execute(
            insert(entries).values(
                id=contact.id,
                beneficiary_id=contact.beneficiary_id,
                kind="contact",
                category=contacts.CATEGORY,
                occurred_at=contact.occurred_at,
                recorded_at=contact.recorded_at,
                author_subject=contact.author.subject,
                author_organisation=contact.author.organisation,
                author_profession=contact.author.profession,
                vocabulary_version=contact.vocabulary_version,
                payload=json.dumps(
                    {
                        "modality": contact.modality,
                        "outcome": contact.outcome,
                        "duration_minutes": contact.duration_minutes,
                    }
                ),
            )
        )

    def timeline(self, beneficiary_id: str, limit: int) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(entries)
            .where(entries.c.beneficiary_id == beneficiary_id)
            .order_by(entries.c.occurred_at.desc(), entries.c.id.desc())
            .limit(limit)
        ).mappings()
        return [
            {
                "id": row["id"],
                "kind": row["kind"],
                "category": row["category"],
                "occurred_at": row["occurred_at"],
                "recorded_at": row["recorded_at"],
                "author": {
                    "organisation": row["author_organisation"],
                    "profession": row["author_profession"],
                },
                **json.loads(row["payload"]),
            }
            for row in rows
        ]
