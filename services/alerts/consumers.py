"""The alerts service's event entry points: decode → handler, nothing more."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.alerts import handlers
from services.alerts.adapters.repository import LastSeenRepository
from shared.bus.envelope import Envelope


def on_journey_event(session: Session, event: Envelope) -> None:
    if event.type == "record.contact_logged":
        handlers.contact_logged(LastSeenRepository(session), event.payload, handlers.utcnow())


CONSUMERS = {"alerts.journey": on_journey_event}
