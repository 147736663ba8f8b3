"""Webhook subscriptions (their secrets sealed at rest) and deliveries with their attempts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.alerts.adapters.orm import webhook_deliveries, webhooks
from shared import crypto
from shared.db.statements import insert_many

MASTER_KEY_FILE = "alerts-master.key"


class SecretBox:
    """Seals webhook secrets under a key derived from the alerts master key (ALERTS_MASTER_KEY
    or a key file), each bound to its subscription id."""

    def __init__(self, master_key: bytes) -> None:
        self._key = crypto.derive_key(master_key, b"relais-alerts-webhook-secrets")

    @classmethod
    def load(cls, master_key_b64: str | None, keys_dir: Path) -> SecretBox:
        return cls(crypto.load_master_key(master_key_b64, keys_dir / MASTER_KEY_FILE,
                                          variable="ALERTS_MASTER_KEY"))

    def seal(self, webhook_id: str, secret: bytes) -> bytes:
        return crypto.seal(self._key, secret, f"webhook|{webhook_id}".encode())

    def open(self, webhook_id: str, sealed: bytes) -> bytes:
        return crypto.open_sealed(self._key, sealed, f"webhook|{webhook_id}".encode())


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    organisation: str
    url: str
    sealed_secret: bytes
    event_types: frozenset[str]
    profession: str | None
    created_by: str
    created_at: datetime
    active: bool


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    webhook_id: str
    event_id: str
    event_type: str
    beneficiary_id: str | None
    body: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


def _webhook(r: Any) -> Webhook:
    return Webhook(r.webhook_id, r.organisation, r.url, bytes(r.sealed_secret),
                   frozenset(r.event_types.split()), r.profession, r.created_by, r.created_at, r.active)


def _delivery(r: Any) -> Delivery:
    return Delivery(r.delivery_id, r.webhook_id, r.event_id, r.event_type, r.beneficiary_id, r.body,
                    r.state, r.attempts, r.next_attempt_at, r.last_status, r.last_error, r.created_at,
                    r.finished_at)


class WebhookStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- subscriptions -------------------------------------------------------------------------
    def add(self, webhook: Webhook) -> None:
        self.session.execute(webhooks.insert().values(
            webhook_id=webhook.webhook_id, organisation=webhook.organisation, url=webhook.url,
            sealed_secret=webhook.sealed_secret, event_types=" ".join(sorted(webhook.event_types)),
            profession=webhook.profession, created_by=webhook.created_by,
            created_at=webhook.created_at, active=webhook.active))

    def get(self, webhook_id: str) -> Webhook | None:
        row = self.session.execute(select(webhooks).where(webhooks.c.webhook_id == webhook_id)).first()
        return None if row is None else _webhook(row)

    def of_organisation(self, organisation: str) -> list[Webhook]:
        rows = self.session.execute(select(webhooks).where(webhooks.c.organisation == organisation)
                                    .order_by(webhooks.c.created_at, webhooks.c.webhook_id))
        return [_webhook(r) for r in rows]

    def active_for(self, organisations: Collection[str]) -> dict[str, list[Webhook]]:
        wanted = sorted({o for o in organisations if o})
        found: dict[str, list[Webhook]] = {}
        if wanted:
            for row in self.session.execute(select(webhooks).where(
                    webhooks.c.organisation.in_(wanted), webhooks.c.active.is_(True))):
                found.setdefault(row.organisation, []).append(_webhook(row))
        return found

    def deactivate(self, webhook_id: str) -> None:
        self.session.execute(update(webhooks).where(webhooks.c.webhook_id == webhook_id).values(active=False))
        self.session.execute(update(webhook_deliveries).where(
            webhook_deliveries.c.webhook_id == webhook_id, webhook_deliveries.c.state == "pending"
        ).values(state="withheld", next_attempt_at=None, last_error="subscription removed"))

    # -- deliveries ----------------------------------------------------------------------------
    def enqueue(self, rows: list[dict[str, Any]]) -> None:
        insert_many(self.session, webhook_deliveries, rows)

    def claim_due(self, now: datetime, limit: int) -> list[Delivery]:
        d = webhook_deliveries.c
        query = (select(webhook_deliveries).where(d.state == "pending", d.next_attempt_at <= now)
                 .order_by(d.next_attempt_at).limit(limit).with_for_update(skip_locked=True))
        return [_delivery(r) for r in self.session.execute(query)]

    def get_delivery(self, delivery_id: str, *, for_update: bool = False) -> Delivery | None:
        query = select(webhook_deliveries).where(webhook_deliveries.c.delivery_id == delivery_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return None if row is None else _delivery(row)

    def change_delivery(self, delivery_id: str, **values: Any) -> None:
        self.session.execute(update(webhook_deliveries).where(
            webhook_deliveries.c.delivery_id == delivery_id).values(**values))

    def deliveries(self, webhook_id: str, states: Collection[str], limit: int) -> list[Delivery]:
        d = webhook_deliveries.c
        query = select(webhook_deliveries).where(d.webhook_id == webhook_id)
        if states:
            query = query.where(d.state.in_(sorted(states)))
        rows = self.session.execute(query.order_by(d.created_at.desc(), d.delivery_id.desc()).limit(limit))
        return [_delivery(r) for r in rows]

    def forget_person(self, beneficiary_id: str) -> None:
        self.session.execute(delete(webhook_deliveries).where(
            webhook_deliveries.c.beneficiary_id == beneficiary_id))
