"""Events the record service consumes: consent changes (its local projection, which decides
every access, and erasure), and alerts (the open-alert count of the caseload)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.record.adapters.orm import person_keys
from services.record.adapters.repository import JourneyRepository
from shared.alerting import events as alert_events
from shared.bus.outbox import Outbox
from shared.journey import events as journey_events


def shred_person(session: Session, outbox: Outbox, beneficiary_id: str,
                 correlation_id: str | None) -> None:
    """Crypto-shredding: the person's data key goes, so their entries can never be opened
    again; the read models that point at them go too. Every other row stays as it is."""
    session.execute(delete(person_keys).where(person_keys.c.beneficiary_id == beneficiary_id))
    JourneyRepository(session).forget_person(beneficiary_id)
    outbox.add(session, journey_events.PERSON_ERASED, {"beneficiary_id": beneficiary_id},
               correlation_id=correlation_id)


def alert_changed(session: Session, event_type: str, payload: dict) -> None:
    if event_type in alert_events.OPEN_EVENTS:
        is_open = True
    elif event_type in alert_events.CLOSED_EVENTS:
        is_open = False
    else:
        return
    data = alert_events.load(event_type, payload)
    at: datetime = data["at"]
    JourneyRepository(session).alert_changed(data["alert_id"], data["beneficiary_id"], is_open, at)
