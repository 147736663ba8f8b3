"""The audit service's event entry points: decode → handler, nothing more.

``on_audit_event`` runs per delivered event and ``on_batch`` once per consumer transaction, so
the tree is appended to once per batch (see handlers.py).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.audit import handlers
from services.audit.domain.persons import PersonIndex
from services.audit.settings import AuditSettings
from shared.bus.envelope import Envelope

QUEUE = "audit.ingest"


def on_audit_event(session: Session, event: Envelope) -> None:
    handlers.ingest(session, event)


def batch_hook(settings: AuditSettings) -> Callable[[Session], None]:
    # One consumer's batches run one after the other on its thread: its copy of the person
    # heads goes from one batch to the next (and is read again whenever the head moved
    # elsewhere).
    index = PersonIndex()

    def on_batch(session: Session) -> None:
        handlers.integrate(session, settings, index=index)

    return on_batch


CONSUMERS = {QUEUE: on_audit_event}
