"""Webhooks: an organisation registers its own system's URL and receives the ``alert.*`` events
of its alerts, signed (HMAC-SHA256 over timestamp and body) with a secret shown once.

Delivery, in the worker: due deliveries are claimed (``SKIP LOCKED``), the receiving
organisation's consent is decided again for each (a grant withdrawn since the event means the
delivery is withheld), the disclosure is audited and a lease taken in one transaction — before
anything leaves — then each is sent; a failure is retried after the configured back-off, and
after the last attempt the delivery stays as a dead letter, listed and retried on request."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.alerts.adapters import http_sender
from services.alerts.adapters.webhook_store import Delivery, Webhook
from services.alerts.domain.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TargetRefused,
    sign,
)
from services.alerts.handlers.common import CATEGORY, AlertsContext, NotVisible, audit, judge
from services.alerts.handlers.configuration import require_manager
from shared.alerting import events
from shared.auth import Principal
from shared.consent.decision import Actor
from shared.consent.vocabulary import professions

DEFAULT_EVENTS = (events.ALERT_WARNED, events.ALERT_OPENED, events.ALERT_ESCALATED,
                  events.ALERT_ACKNOWLEDGED, events.ALERT_SNOOZED, events.ALERT_RESOLVED)
Sender = Callable[..., http_sender.Outcome]


class WebhookRejected(ValueError):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))


def _public(hook: Webhook) -> dict[str, Any]:
    return {"webhook_id": hook.webhook_id, "organisation": hook.organisation, "url": hook.url,
            "events": sorted(hook.event_types), "profession": hook.profession,
            "created_at": hook.created_at, "active": hook.active}


def register(ctx: AlertsContext, principal: Principal, organisation: str, *, url: str,
             event_types: list[str] | None, profession: str | None,
             request_id: str | None) -> dict[str, Any]:
    require_manager(ctx, principal, organisation, "webhook.register", request_id)
    settings = ctx.settings
    errors = []
    try:
        http_sender.check_url(url, allow_private=settings.webhook_allow_private,
                              require_https=settings.webhook_require_https)
    except TargetRefused as exc:
        errors.append(("url", str(exc)))
    chosen = sorted(set(event_types or DEFAULT_EVENTS))
    unknown = [e for e in chosen if e not in DEFAULT_EVENTS]
    if unknown:
        errors.append(("events", f"Not events a webhook receives: {', '.join(unknown)}."))
    acting_as = profession or principal.profession
    if acting_as is None:
        errors.append(("profession", "Name the profession the receiving system acts for "
                                     "(its consent is decided as that profession's)."))
    elif acting_as not in professions():
        errors.append(("profession", "Not a code of the profession vocabulary."))
    if errors:
        raise WebhookRejected(errors)
    now = ctx.clock()
    secret = secrets.token_urlsafe(32)
    webhook_id = str(uuid.uuid4())
    hook = Webhook(webhook_id, organisation, url, ctx.secrets.seal(webhook_id, secret.encode()),
                   frozenset(chosen), acting_as, principal.subject, now, True)
    with ctx.uow() as work:
        work.webhooks.add(hook)
        audit(work, principal, request_id, action="webhook.register", crude="C", beneficiary_id=None,
              entry_ids=[webhook_id], categories=())
        work.commit()
    return {**_public(hook), "secret": secret}


def _own(ctx: AlertsContext, principal: Principal, webhook_id: str, action: str,
         request_id: str | None) -> Webhook:
    with ctx.uow() as work:
        hook = work.webhooks.get(webhook_id)
    if hook is None:
        raise NotVisible(webhook_id)
    require_manager(ctx, principal, hook.organisation, action, request_id)
    return hook


def listing(ctx: AlertsContext, principal: Principal, organisation: str,
            request_id: str | None) -> dict[str, Any]:
    require_manager(ctx, principal, organisation, "webhook.list", request_id)
    with ctx.uow() as work:
        found = work.webhooks.of_organisation(organisation)
        audit(work, principal, request_id, action="webhook.list", crude="R", beneficiary_id=None,
              categories=())
        work.commit()
    return {"items": [_public(h) for h in found]}


def remove(ctx: AlertsContext, principal: Principal, webhook_id: str, request_id: str | None) -> None:
    _own(ctx, principal, webhook_id, "webhook.remove", request_id)
    with ctx.uow() as work:
        work.webhooks.deactivate(webhook_id)
        audit(work, principal, request_id, action="webhook.remove", crude="D", beneficiary_id=None,
              entry_ids=[webhook_id], categories=())
        work.commit()


def _delivery_view(d: Delivery) -> dict[str, Any]:
    return {"delivery_id": d.delivery_id, "event_id": d.event_id, "event_type": d.event_type,
            "state": d.state, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
            "last_status": d.last_status, "last_error": d.last_error, "created_at": d.created_at,
            "finished_at": d.finished_at}


def deliveries(ctx: AlertsContext, principal: Principal, webhook_id: str, states: list[str],
               limit: int, request_id: str | None) -> dict[str, Any]:
    _own(ctx, principal, webhook_id, "webhook.deliveries", request_id)
    with ctx.uow() as work:
        found = work.webhooks.deliveries(webhook_id, states, limit)
        audit(work, principal, request_id, action="webhook.deliveries", crude="R", beneficiary_id=None,
              entry_ids=[webhook_id], categories=())
        work.commit()
    return {"items": [_delivery_view(d) for d in found]}


def retry(ctx: AlertsContext, principal: Principal, webhook_id: str, delivery_id: str,
          request_id: str | None) -> dict[str, Any]:
    """A dead (or withheld) delivery goes out again, with a fresh set of attempts."""
    _own(ctx, principal, webhook_id, "webhook.retry", request_id)
    now = ctx.clock()
    with ctx.uow() as work:
        found = work.webhooks.get_delivery(delivery_id, for_update=True)
        if found is None or found.webhook_id != webhook_id:
            raise NotVisible(delivery_id)
        if found.state in ("dead", "withheld"):
            work.webhooks.change_delivery(delivery_id, state="pending", attempts=0, next_attempt_at=now,
                                          finished_at=None)
        audit(work, principal, request_id, action="webhook.retry", crude="U", beneficiary_id=None,
              entry_ids=[delivery_id], categories=())
        work.commit()
        updated = work.webhooks.get_delivery(delivery_id)
    assert updated is not None
    return _delivery_view(updated)


# -- delivering (the worker) ------------------------------------------------------------------
@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    withheld: int = 0


def receiving_principal(hook: Webhook, delivery_id: str) -> Principal:
    """Who receives a delivery, for the consent decision and the audit log: the
    organisation's system behind the subscription."""
    return Principal(subject=f"webhook:{hook.webhook_id}", client_id=f"webhook:{hook.webhook_id}",
                     scopes=frozenset(), token_id=delivery_id, role="system",
                     organisation=hook.organisation, profession=hook.profession)


def deliver_due(ctx: AlertsContext, now: datetime | None = None, *, limit: int = 50,
                send: Sender = http_sender.post) -> DeliveryReport:
    at = now or ctx.clock()
    settings = ctx.settings
    report = DeliveryReport()
    lease = timedelta(seconds=settings.webhook_timeout_seconds * 2 + 30)
    jobs: list[tuple[Delivery, Webhook, bytes]] = []
    with ctx.uow() as work:
        hooks: dict[str, Webhook | None] = {}
        for delivery in work.webhooks.claim_due(at, limit):
            if delivery.webhook_id not in hooks:
                hooks[delivery.webhook_id] = work.webhooks.get(delivery.webhook_id)
            hook = hooks[delivery.webhook_id]
            if hook is None or not hook.active:
                work.webhooks.change_delivery(delivery.delivery_id, state="withheld", next_attempt_at=None,
                                              finished_at=at, last_error="subscription removed")
                report.withheld += 1
                continue
            principal = receiving_principal(hook, delivery.delivery_id)
            decision = None
            if delivery.beneficiary_id:
                actor = Actor(principal.subject, "system", hook.organisation, hook.profession)
                decision = judge(ctx, work, actor, delivery.beneficiary_id, at)
            if decision is None or CATEGORY not in decision.permitted:
                work.webhooks.change_delivery(delivery.delivery_id, state="withheld", next_attempt_at=None,
                                              finished_at=at, last_error="no consent")
                audit(work, principal, None, action="webhook.deliver", crude="R",
                      beneficiary_id=delivery.beneficiary_id, entry_ids=[delivery.event_id],
                      outcome="deny", reason="no_grant")
                report.withheld += 1
                continue
            audit(work, principal, None, action="webhook.deliver", crude="R",
                  beneficiary_id=delivery.beneficiary_id, entry_ids=[delivery.event_id],
                  decision=decision)
            work.webhooks.change_delivery(delivery.delivery_id, attempts=delivery.attempts + 1,
                                          next_attempt_at=at + lease)
            jobs.append((delivery, hook, ctx.secrets.open(hook.webhook_id, hook.sealed_secret)))
        work.commit()
    results = []
    for delivery, hook, secret in jobs:
        body = delivery.body.encode()
        headers = _headers(delivery, secret, body, int(at.timestamp()))
        outcome = send(hook.url, body, headers, allow_private=settings.webhook_allow_private,
                       require_https=settings.webhook_require_https,
                       timeout=settings.webhook_timeout_seconds)
        results.append((delivery, outcome))
    with ctx.uow() as work:
        for delivery, outcome in results:
            attempts = delivery.attempts + 1
            if outcome.delivered:
                work.webhooks.change_delivery(delivery.delivery_id, state="delivered", next_attempt_at=None,
                                              last_status=outcome.status, last_error=None, finished_at=at)
                report.delivered += 1
            elif attempts >= settings.webhook_max_attempts:
                work.webhooks.change_delivery(delivery.delivery_id, state="dead", next_attempt_at=None,
                                              last_status=outcome.status, last_error=outcome.error,
                                              finished_at=at)
                report.dead += 1
            else:
                delay = settings.webhook_retry_delays[attempts - 1]
                work.webhooks.change_delivery(delivery.delivery_id, next_attempt_at=at + timedelta(seconds=delay),
                                              last_status=outcome.status, last_error=outcome.error)
                report.retried += 1
        work.commit()
    return report


def _headers(delivery: Delivery, secret: bytes, body: bytes, timestamp: int) -> Mapping[str, str]:
    return {"Content-Type": "application/json", "User-Agent": "Relais-Alerts",
            EVENT_ID_HEADER: delivery.event_id, EVENT_TYPE_HEADER: delivery.event_type,
            SIGNATURE_HEADER: sign(secret, timestamp, body)}
