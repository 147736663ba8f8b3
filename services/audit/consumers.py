"""The audit service's event entry points: decode → handler, nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from services.audit import handlers
from services.audit.adapters.repository import AuditLogRepository
from shared.bus.envelope import Envelope


def on_audit_event(session: Session, event: Envelope) -> None:
    handlers.ingest(AuditLogRepository(session), event, datetime.now(UTC))


CONSUMERS = {"audit.ingest": on_audit_event}
