"""Event entry points of the consent service.

``consent.projection_acks`` (bound to ``*.consent_applied``): another service's projection
applied a consent change up to an epoch; strict withdrawal waits for these."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.consent.adapters.records import ConsentRecords
from shared.bus.envelope import Envelope
from shared.bus.topology import Subscription
from shared.consent.events import APPLIED_SUFFIX

ACKS_QUEUE = "consent.projection_acks"
SUBSCRIPTION = Subscription(ACKS_QUEUE, (f"*{APPLIED_SUFFIX}",))


def projection_acknowledged(session: Session, envelope: Envelope) -> None:
    if not envelope.type.endswith(APPLIED_SUFFIX):
        return
    payload = envelope.payload
    ConsentRecords(session).acknowledge(str(payload["projection"]), str(payload["beneficiary_id"]),
                                        int(payload["epoch"]))
