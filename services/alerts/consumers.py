"""The alerts service's event entry points: decode → handler, nothing more.

- ``alerts.journey`` (``record.#``): the journey events, which keep each person's facts, clocks,
  last seen and followers; events that are not about the journey (``record.consent_applied``)
  are ignored.
- ``alerts.consent`` (``consent.#``): the local consent projection that decides who may see an
  alert; each applied restriction is acknowledged (``alerts.consent_applied``) so a strict
  withdrawal answers only once no alert of the person shows to the withdrawn reader; an erasure
  removes everything kept about the person.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.alerts.adapters import orm
from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.handlers import journey
from services.alerts.handlers.common import AlertsContext
from shared.bus.envelope import Envelope
from shared.bus.outbox import Outbox
from shared.consent import events as consent_events

JOURNEY_QUEUE = "alerts.journey"
CONSENT_QUEUE = "alerts.consent"


def consumers(ctx: AlertsContext, outbox: Outbox):
    projected = orm.projection.handler(acknowledge_as="alerts", outbox=outbox)

    def on_journey_event(session: Session, envelope: Envelope) -> None:
        work = AlertsUnitOfWork.joined(session, outbox)
        journey.journey_event(ctx, work, envelope.type, envelope.payload, envelope.occurred_at,
                              envelope.correlation_id, ctx.clock())

    def on_consent_event(session: Session, envelope: Envelope) -> None:
        projected(session, envelope)
        if envelope.type == consent_events.BENEFICIARY_ERASED:
            journey.forget_person(AlertsUnitOfWork.joined(session, outbox),
                                  str(envelope.payload["beneficiary_id"]))

    return {JOURNEY_QUEUE: on_journey_event, CONSENT_QUEUE: on_consent_event}
