"""The record service's event entry points: decode → handler, nothing more.

- ``record.consent`` (``consent.#``): the local consent projection every access is decided
  from; each applied restriction is acknowledged (``record.consent_applied``) for strict
  withdrawal; an erasure shreds the person's journey.
- ``record.alerts`` (``alert.#``): open alerts per person, for the caseload.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.record.adapters import orm
from services.record.handlers import events
from shared.bus.envelope import Envelope
from shared.bus.outbox import Outbox
from shared.bus.topology import Subscription
from shared.consent import events as consent_events

CONSENT_QUEUE = "record.consent"
ALERTS_QUEUE = "record.alerts"
SUBSCRIPTIONS = (Subscription(CONSENT_QUEUE, ("consent.#",)), Subscription(ALERTS_QUEUE, ("alert.#",)))


def consumers(outbox: Outbox):
    projected = orm.projection.handler(acknowledge_as="record", outbox=outbox)

    def on_consent_event(session: Session, envelope: Envelope) -> None:
        projected(session, envelope)
        if envelope.type == consent_events.BENEFICIARY_ERASED:
            events.shred_person(session, outbox, str(envelope.payload["beneficiary_id"]),
                                envelope.correlation_id)

    def on_alert_event(session: Session, envelope: Envelope) -> None:
        events.alert_changed(session, envelope.type, envelope.payload)

    return {CONSENT_QUEUE: on_consent_event, ALERTS_QUEUE: on_alert_event}
