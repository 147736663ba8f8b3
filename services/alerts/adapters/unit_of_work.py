from __future__ import annotations

from sqlalchemy.orm import Session

from services.alerts.adapters.alert_store import AlertStore
from services.alerts.adapters.clock_store import ClockStore
from services.alerts.adapters.config_store import ConfigStore
from services.alerts.adapters.journey_store import JourneyStore
from services.alerts.adapters.orm import projection
from services.alerts.adapters.webhook_store import WebhookStore
from shared.bus.envelope import Envelope
from shared.bus.outbox import Outbox
from shared.consent.decision import ConsentState
from shared.db.unit_of_work import UnitOfWork


class AlertsUnitOfWork(UnitOfWork):
    journey: JourneyStore
    clocks: ClockStore
    alerts: AlertStore
    config: ConfigStore
    webhooks: WebhookStore

    def started(self) -> None:
        self.journey = JourneyStore(self.session)
        self.clocks = ClockStore(self.session)
        self.alerts = AlertStore(self.session)
        self.config = ConfigStore(self.session)
        self.webhooks = WebhookStore(self.session)

    def consent_state(self, beneficiary_id: str) -> ConsentState | None:
        return projection.state(self.session, beneficiary_id)

    def teams_of(self, subject: str) -> frozenset[str]:
        return projection.teams_of(self.session, subject)

    def publish_many(self, envelopes: list[Envelope]) -> None:
        """Many events of one transaction in one INSERT (a scan's batch)."""
        self._outbox.add_many(self.session, envelopes)
        self.published.extend(envelopes)

    @classmethod
    def joined(cls, session: Session, outbox: Outbox) -> AlertsUnitOfWork:
        """The same stores on a transaction someone else owns (a consumer's batch): commit and
        rollback are theirs."""
        work = cls(None, outbox)  # type: ignore[arg-type]
        work.session = session
        work.published = []
        work.started()
        return work
