from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.audit.adapters.orm import audit_log
from services.audit.domain.entries import LogEntry


class AuditLogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, entry: LogEntry, received_at: datetime) -> None:
        self.session.execute(
            insert(audit_log).values(
                event_id=entry.event_id,
                source=entry.source,
                source_sequence=entry.source_sequence,
                event_type=entry.event_type,
                occurred_at=entry.occurred_at,
                received_at=received_at,
                beneficiary_id=entry.beneficiary_id,
                actor_subject=entry.actor_subject,
                actor_organisation=entry.actor_organisation,
                action=entry.action,
                outcome=entry.outcome,
                canonical=entry.canonical,
            )
        )

    def search(self, beneficiary_id: str | None, limit: int) -> list[dict[str, Any]]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if beneficiary_id:
            query = query.where(audit_log.c.beneficiary_id == beneficiary_id)
        rows = self.session.execute(query).mappings()
        return [
            {
                "index": row["id"],
                "event_id": row["event_id"],
                "source": row["source"],
                "source_sequence": row["source_sequence"],
                "event": json.loads(row["canonical"]),
            }
            for row in rows
        ]
