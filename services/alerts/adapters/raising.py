"""One batch of the scan's raising, as the database does it best.

Claim the due steps of ``clock_due`` (``FOR UPDATE SKIP LOCKED``, oldest first, through its
index on ``next_at``), delete those raised (done for their period) and move those warned to
their due time, and insert their alerts (``ON CONFLICT`` on the alert id: an alert that exists is
opened again only if it was a warning or was resolved automatically for a reason that no
longer holds), so that events are written for exactly the alerts this batch opened or warned.

- PostgreSQL (``raise_and_tell``): one statement for the whole batch — data-modifying common
  table expressions that also write the ``alert.opened`` / ``alert.warning`` events to the
  outbox and queue the webhook deliveries. Nothing per alert travels between the service and
  the database; the events have the shape ``handlers.publishing`` gives every other alert event
  (a test holds them together), and the relay publishes them like any other row.
- Elsewhere (``raise_batch``, SQLite on one machine): the same steps, one statement each, and
  the handler writes the events.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.alerts.adapters.alert_store import AlertStore
from services.alerts.adapters.clock_store import RAISE, ClockStore
from shared.alerting import events


@dataclass(frozen=True)
class Escalations:
    """Days before an open alert escalates, per rule, and per organisation where it overrides
    them; None: the rule has no escalation step."""

    defaults: Mapping[str, int | None]
    by_organisation: Mapping[tuple[str, str], int | None]

    def days(self, organisation: str | None, rule: str) -> int | None:
        key = (organisation or "", rule)
        return self.by_organisation[key] if key in self.by_organisation else self.defaults[rule]

    def next_at(self, organisation: str | None, rule: str, now: datetime) -> datetime | None:
        days = self.days(organisation, rule)
        return None if days is None else now + timedelta(days=days)


@dataclass(frozen=True)
class Raised:
    clock_id: str
    alert_id: str
    beneficiary_id: str
    rule: str
    subject_id: str
    organisation: str | None
    due_at: datetime | None
    opened: bool  # the alert is open because of this batch
    warned: bool  # the alert is a warning because of this batch


PRODUCER = "alerts"
_COLUMNS = "alert_id, beneficiary_id, rule, subject_id, period, organisation, anchor_at, due_at"

_CLAIM_AND_RAISE = f"""
WITH due AS (
    SELECT clock_id, due_at <= :now AS raising FROM clock_due WHERE next_at <= :now
    ORDER BY next_at LIMIT :limit FOR UPDATE SKIP LOCKED
), raised AS (
    DELETE FROM clock_due AS d USING due
    WHERE d.clock_id = due.clock_id AND due.raising
    RETURNING d.clock_id, {", ".join("d." + name for name in _COLUMNS.split(", "))}
), warned AS (
    UPDATE clock_due AS d SET next_at = d.due_at, step = '{RAISE}'
    FROM due WHERE d.clock_id = due.clock_id AND NOT due.raising
    RETURNING d.clock_id, {", ".join("d." + name for name in _COLUMNS.split(", "))}
), opened AS (
    INSERT INTO alerts ({_COLUMNS}, state, audience, level, snoozes, raised_at, opened_at, next_at,
                        changed_at)
    SELECT {_COLUMNS}, 'open', 'referent', 0, 0, :now, :now,
           :now + make_interval(days => CAST(COALESCE(
               CAST(:by_organisation AS jsonb) ->> (COALESCE(organisation, '') || '|' || rule),
               CAST(:defaults AS jsonb) ->> rule) AS int)),
           :now
    FROM raised
    ON CONFLICT (alert_id) DO UPDATE SET
        state = 'open', raised_at = excluded.raised_at, opened_at = excluded.opened_at,
        due_at = excluded.due_at, anchor_at = excluded.anchor_at,
        organisation = excluded.organisation, level = 0, audience = 'referent',
        next_at = excluded.next_at, resolved_at = NULL, resolved_by = NULL, resolution = NULL,
        snoozed_until = NULL, changed_at = excluded.changed_at
    WHERE alerts.state = 'warning'
       OR (alerts.state = 'resolved' AND alerts.resolution = ANY(CAST(:reopenable AS text[])))
    RETURNING alert_id, beneficiary_id, rule, subject_id, organisation, due_at
), warnings AS (
    INSERT INTO alerts ({_COLUMNS}, state, audience, level, snoozes, raised_at, changed_at)
    SELECT {_COLUMNS}, 'warning', 'referent', 0, 0, :now, :now FROM warned
    ON CONFLICT (alert_id) DO NOTHING
    RETURNING alert_id, beneficiary_id, rule, subject_id, organisation, due_at
)
"""


# The payload keys of the events the statement below writes: those of ``publishing.payload``
# plus ``due_at`` (a test holds the two together).
EVENT_KEYS = ("alert_id", "beneficiary_id", "rule", "state", "at", "subject_id", "organisation", "due_at")

_TOLD = _CLAIM_AND_RAISE + f"""
, told AS (
    SELECT alert_id, beneficiary_id, rule, subject_id, organisation, due_at,
           CAST(gen_random_uuid() AS text) AS event_id, '{events.ALERT_OPENED}' AS event_type, 'open' AS state
    FROM opened
    UNION ALL
    SELECT alert_id, beneficiary_id, rule, subject_id, organisation, due_at,
           CAST(gen_random_uuid() AS text), '{events.ALERT_WARNED}', 'warning'
    FROM warnings
), payloads AS (
    SELECT t.*, json_build_object(
        'alert_id', t.alert_id, 'beneficiary_id', t.beneficiary_id, 'rule', t.rule,
        'state', t.state, 'at', CAST(:at AS text), 'subject_id', t.subject_id,
        'organisation', t.organisation, 'due_at', to_json(t.due_at) #>> '{{}}') AS payload
    FROM told t
), outboxed AS (
    INSERT INTO outbox (event_id, event_type, routing_key, body, created_at)
    SELECT event_id, event_type, event_type, CAST(json_build_object(
        'id', event_id, 'type', event_type, 'version', 1, 'occurred_at', CAST(:at AS text),
        'producer', '{PRODUCER}', 'correlation_id', NULL, 'sequence', NULL, 'payload', payload) AS text),
        :now
    FROM payloads
    RETURNING event_id
), delivered AS (
    INSERT INTO webhook_deliveries (delivery_id, webhook_id, event_id, event_type, beneficiary_id, body,
                                    state, attempts, next_attempt_at, created_at)
    SELECT CAST(gen_random_uuid() AS text), w.webhook_id, p.event_id, p.event_type, p.beneficiary_id,
           CAST(json_build_object('id', p.event_id, 'type', p.event_type,
                                   'occurred_at', CAST(:at AS text), 'data', p.payload) AS text),
           'pending', 0, :now, :now
    FROM payloads p JOIN webhooks w ON w.organisation = p.organisation AND w.active
         AND p.event_type = ANY(string_to_array(w.event_types, ' '))
    RETURNING delivery_id
)
SELECT (SELECT count(*) FROM due) AS claimed, (SELECT count(*) FROM opened) AS opened,
       (SELECT count(*) FROM warnings) AS warned, (SELECT count(*) FROM outboxed) AS told,
       (SELECT count(*) FROM delivered) AS deliveries,
       (SELECT CAST(COALESCE(json_agg(json_build_array(r.alert_id, r.beneficiary_id, r.rule,
                                                        r.subject_id, r.organisation, g.grantee)), '[]')
                    AS text)
        FROM opened r JOIN consent_grants g ON g.beneficiary_id = r.beneficiary_id
             AND g.grantee_kind = 'close_one' AND g.active
        WHERE r.rule = 'not_seen') AS close_ones
"""


@dataclass(frozen=True)
class Told:
    """What one batch did, events and deliveries written with it (PostgreSQL)."""

    claimed: int
    opened: int
    warned: int
    told: int
    deliveries: int
    close_ones: list[tuple[Raised, str]]  # opened not-seen alerts, and a close one with a grant


def raise_and_tell(session: Session, now: datetime, limit: int, escalations: Escalations,
                   reopenable: Collection[str]) -> Told:
    """One batch, its ``alert.opened`` / ``alert.warning`` events in the outbox and its webhook
    deliveries, in one statement: nothing per alert travels between the service and the
    database. PostgreSQL only."""
    row = session.execute(text(_TOLD), _parameters(now, limit, escalations, reopenable)
                          | {"at": now.isoformat()}).one()
    close_ones = [(Raised("", alert, person, rule, subject, organisation, None, True, False), close_one)
                  for alert, person, rule, subject, organisation, close_one in json.loads(row.close_ones)]
    return Told(row.claimed, row.opened, row.warned, row.told, row.deliveries, close_ones)


def _parameters(now: datetime, limit: int, escalations: Escalations,
                reopenable: Collection[str]) -> dict:
    return {
        "now": now, "limit": limit, "reopenable": sorted(reopenable),
        # A rule without escalation has null days, so a null next_at.
        "defaults": json.dumps(dict(escalations.defaults)),
        "by_organisation": json.dumps({f"{o}|{r}": v for (o, r), v in escalations.by_organisation.items()}),
    }


def raise_batch(session: Session, now: datetime, limit: int, escalations: Escalations,
                reopenable: Collection[str]) -> list[Raised]:
    """One batch, step by step (the portable path); the caller writes the events."""
    clocks, alerts = ClockStore(session), AlertStore(session)
    claimed = clocks.claim_due(now, limit)
    to_raise = [r for r in claimed if r.due_at <= now]
    to_warn = [r for r in claimed if r.due_at > now]
    opened = set(alerts.open_many(
        to_raise, [escalations.next_at(r.organisation, r.rule, now) for r in to_raise], now, reopenable))
    warned = set(alerts.warn_many(to_warn, now))
    clocks.fired(to_raise, to_warn)
    return [Raised(r.clock_id, r.alert_id, r.beneficiary_id, r.rule, r.subject_id, r.organisation,
                   r.due_at, r.alert_id in opened, r.alert_id in warned) for r in claimed]
