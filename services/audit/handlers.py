"""One function per command and per consumed event of the audit service.

Ingestion is two steps in one transaction: ``ingest`` normalises each delivered event (per
event), ``integrate`` places the whole batch in the tree under one head lock, raises signals,
tracks source sequences and signs a checkpoint when one is due (per batch). The consumer acks
only after that transaction commits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from services.audit.adapters import signing_key
from services.audit.adapters.log_store import LogStore
from services.audit.adapters.metrics import SEQUENCE_GAP
from services.audit.adapters.repository import AuditLogRepository
from services.audit.domain import signals
from services.audit.domain.entries import AuditEvent, event_from_payload
from services.audit.domain.log import Appended, missing_ranges
from services.audit.domain.persons import PersonIndex
from services.audit.settings import AuditSettings
from shared.bus.envelope import Envelope
from shared.logs import get_logger

log = get_logger("relais.audit")
PENDING = "relais.audit.pending"


def ingest(session: Session, event: Envelope) -> None:
    """Per delivered event: normalise it and keep it for this batch's ``integrate``."""
    session.info.setdefault(PENDING, []).append(
        event_from_payload(event.id, event.type, event.producer, event.sequence, event.occurred_at,
                           event.payload)
    )


def integrate(session: Session, settings: AuditSettings, now: datetime | None = None,
              index: PersonIndex | None = None) -> Appended:
    """Per batch: append the pending events to the log in the caller's transaction. ``index``
    is the appender's own copy of the person heads, carried from batch to batch."""
    events: list[AuditEvent] = session.info.pop(PENDING, [])
    return append_events(session, settings, events, now or datetime.now(UTC), index)


def append_events(
    session: Session, settings: AuditSettings, events: list[AuditEvent], now: datetime,
    index: PersonIndex | None = None,
) -> Appended:
    store = LogStore(session)
    known = store.known_event_ids([e.event_id for e in events])
    seen: set[str] = set()
    fresh = []
    for event in events:
        if event.event_id not in known and event.event_id not in seen:
            seen.add(event.event_id)
            fresh.append(event)
    head, checkpoint_size, checkpoint_at = store.lock_head()
    fresh += _signals(session, settings, fresh, now)
    fresh = _number_own_events(store, fresh)
    appended = store.append(head, fresh, now, index)
    _report_gaps(store, fresh)
    new_head = appended.head or head
    due = new_head.size - checkpoint_size >= settings.checkpoint_every or (
        new_head.size > checkpoint_size
        and (checkpoint_at is None or (now - checkpoint_at).total_seconds() >= settings.checkpoint_seconds)
    )
    if due:
        store.checkpoint(new_head, signing_key.signing_key(settings.key_dir), settings.origin, now, index)
    return appended


def checkpoint_now(session: Session, settings: AuditSettings, now: datetime | None = None) -> str | None:
    """Sign a checkpoint of the current head if it moved since the last one; returns its note."""
    store = LogStore(session)
    head, checkpoint_size, _ = store.lock_head()
    if head.size == 0 or head.size == checkpoint_size:
        return None
    return store.checkpoint(head, signing_key.signing_key(settings.key_dir), settings.origin,
                            now or datetime.now(UTC))


def _number_own_events(store: LogStore, events: list[AuditEvent]) -> list[AuditEvent]:
    """The audit service's own events (searches, signals) get its own gap-free sequence, under
    the head lock, like any other source."""
    own = [e for e in events if e.source == signals.SOURCE and e.source_sequence is None]
    if not own:
        return events
    numbers = iter(store.next_own_sequence(signals.SOURCE, len(own)))
    return [
        replace(e, source_sequence=next(numbers))
        if e.source == signals.SOURCE and e.source_sequence is None else e
        for e in events
    ]


def _signals(
    session: Session, settings: AuditSettings, events: list[AuditEvent], now: datetime
) -> list[AuditEvent]:
    repository = AuditLogRepository(session)
    raised: list[signals.Signal] = []
    reads = [e for e in events if signals.needs_relationship(e)]
    since = now - timedelta(days=settings.no_contact_days)
    pairs = {(e.body["actor"]["organisation"], e.beneficiary_id) for e in reads}
    read_ids = {e.event_id for e in reads}
    related = repository.pairs_with_writes(pairs, since)
    for event in events:
        if signals.is_emergency(event) and event.source != signals.SOURCE:
            raised.append(signals.Signal(signals.EMERGENCY, event, event.body.get("emergency_reason")
                                         or "emergency access", event.beneficiary_id))
        elif event.body["crude"] in signals.WRITES and event.beneficiary_id:
            related.add((event.body["actor"]["organisation"], event.beneficiary_id))
        elif event.event_id in read_ids and (event.body["actor"]["organisation"], event.beneficiary_id) not in related:
            raised.append(signals.Signal(signals.NO_RELATIONSHIP, event,
                                         f"no write by this organisation in {settings.no_contact_days} days",
                                         event.beneficiary_id))
    window = now - timedelta(minutes=settings.burst_minutes)
    by_subject: dict[str, set[str]] = {}
    for signal in raised:
        subject = signal.trigger.body["actor"]["subject"]
        if signal.kind == signals.NO_RELATIONSHIP and subject:
            by_subject.setdefault(subject, set()).add(signal.beneficiary_id or "")
    for subject, persons in by_subject.items():
        before, already = repository.outside_caseload(subject, window)
        if not already and len(before | persons) >= settings.burst_persons:
            trigger = next(s.trigger for s in raised if s.trigger.body["actor"]["subject"] == subject)
            raised.append(signals.Signal(signals.BURST, trigger,
                                         f"{len(before | persons)} persons outside the caseload "
                                         f"in {settings.burst_minutes} minutes", None))
    if not raised:
        return []
    for signal in raised:
        log.warning("audit signal", kind=signal.kind, event_id=signal.trigger.event_id)
    return [signals.signal_event(s, None, now) for s in raised]


def _report_gaps(store: LogStore, events: list[AuditEvent]) -> None:
    sources = {e.source for e in events if e.source_sequence is not None}
    gapped = {state.source: state for state in store.track_sources(events)}
    for source in sources:
        state = gapped.get(source)
        if state is None:
            SEQUENCE_GAP.labels(source).set(0)
            continue
        above = AuditLogRepository(store.session).sequences_above(source, state.contiguous)
        ranges = missing_ranges(state.contiguous, state.highest, above)
        missing = sum(b - a + 1 for a, b in ranges)
        SEQUENCE_GAP.labels(source).set(missing)
        log.warning("audit source sequence gap", source=source, complete_up_to=state.contiguous,
                    highest=state.highest, missing=missing, first_missing=ranges[0][0] if ranges else None)
