"""What the log keeps of an audit event, and the exact bytes its leaf hashes.

An event says when; who (subject, role, organisation, profession, OAuth client, token id);
what (action code and CRUDE letter); on whom (the pseudonymous id), which categories and entry
ids; why (purpose, and the reason code of an emergency access); the outcome and its reason;
which consent authorised it (grant id and version); the source service, its request id and its
gap-free outbox sequence number. Ids, codes and times only — never a name or record content.

The leaf bytes are canonical: ``{"index":<n>,"prev":"<hex>",`` then every other field as
compact JSON with sorted keys, UTF-8. ``prev`` is the leaf hash of the entry before (zeros for
the first), so an export names the first altered line even without the database; ``index`` and
``prev`` come first so a verifier reads them without parsing the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from services.audit.domain.merkle import leaf_hash

ZERO_HASH = bytes(32)
ACTOR_FIELDS = ("subject", "role", "organisation", "profession", "client_id", "token_id")
KNOWN_PAYLOAD = {
    "actor", "action", "crude", "beneficiary_id", "categories", "entry_ids", "purpose",
    "outcome", "reason", "service", "request_id", "consent", "emergency_reason",
}


def _text(value: Any, limit: int = 200) -> str | None:
    return None if value is None else str(value)[:limit]


@lru_cache(maxsize=256)  # a batch shares one recorded_at; events often share occurred_at
def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AuditEvent:
    """One access, as received; not yet in the log."""

    event_id: str
    event_type: str
    source: str
    source_sequence: int | None
    occurred_at: datetime
    body: dict[str, Any]  # the normalised who/what/whom/why/outcome/consent fields

    @property
    def beneficiary_id(self) -> str | None:
        return self.body.get("beneficiary_id")


def event_from_payload(
    event_id: str,
    event_type: str,
    source: str,
    source_sequence: int | None,
    occurred_at: datetime,
    payload: dict[str, Any],
) -> AuditEvent:
    """Normalise a payload of ``audit.access_recorded``; unknown keys are kept under ``extra``."""
    actor = payload.get("actor") or {}
    consent = payload.get("consent") or None
    body: dict[str, Any] = {
        "actor": {key: _text(actor.get(key), 120) for key in ACTOR_FIELDS},
        "action": _text(payload.get("action"), 80) or "unknown",
        "crude": _text(payload.get("crude"), 1) or "E",
        "beneficiary_id": _text(payload.get("beneficiary_id"), 36),
        "categories": sorted({str(c) for c in payload.get("categories") or ()}),
        "entry_ids": [str(e) for e in payload.get("entry_ids") or ()],
        "purpose": _text(payload.get("purpose")),
        "emergency_reason": _text(payload.get("emergency_reason")),
        "outcome": _text(payload.get("outcome"), 20) or "permit",
        "reason": _text(payload.get("reason")),
        "consent": None if not isinstance(consent, dict) else {
            "grant_id": _text(consent.get("grant_id")),
            "version": consent.get("version") if isinstance(consent.get("version"), int) else None,
        },
        "service": _text(payload.get("service")) or source,
        "request_id": _text(payload.get("request_id"), 128),
    }
    extra = {k: v for k, v in payload.items() if k not in KNOWN_PAYLOAD}
    if extra:
        body["extra"] = extra
    return AuditEvent(event_id, event_type, source, source_sequence, occurred_at, body)


@dataclass(frozen=True)
class PersonLink:
    """Where an entry sits in its person's own chain: their n-th event, after ``prev_index``."""

    seq: int
    prev_index: int | None


@dataclass(frozen=True)
class LogEntry:
    """An event placed in the log at ``index``: its canonical bytes and leaf hash are final."""

    index: int
    event: AuditEvent
    recorded_at: datetime
    person: PersonLink | None
    canonical: bytes
    leaf_hash: bytes

    def document(self) -> dict[str, Any]:
        return json.loads(self.canonical)


def canonical_leaf(
    index: int,
    prev_leaf: bytes,
    event: AuditEvent,
    recorded_at: datetime,
    person: PersonLink | None,
) -> bytes:
    rest = {
        "event_id": event.event_id,
        "type": event.event_type,
        "source": event.source,
        "source_sequence": event.source_sequence,
        "occurred_at": _time(event.occurred_at),
        "recorded_at": _time(recorded_at),
        "person": None if person is None else {"seq": person.seq, "prev_index": person.prev_index},
        **event.body,
    }
    return b'{"index":%d,"prev":"%s",%s' % (index, prev_leaf.hex().encode(), _sorted_json(rest)[1:])


def _sorted_json(document: dict[str, Any]) -> bytes:
    """``json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` in
    UTF-8, the documented form of the leaf.

    orjson writes exactly those bytes for what a normalised body holds (strings, integers,
    booleans, None, lists and dicts with known keys) several times faster. ``extra`` is
    whatever a producer sent: it may hold floats, which the two libraries spell differently
    (``1e-05`` and ``0.00001``), so a body with it, or with an integer orjson cannot hold,
    goes through json."""
    if "extra" not in document:
        try:
            return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def place(
    index: int, prev_leaf: bytes, event: AuditEvent, recorded_at: datetime, person: PersonLink | None
) -> LogEntry:
    canonical = canonical_leaf(index, prev_leaf, event, recorded_at, person)
    return LogEntry(index, event, recorded_at, person, canonical, leaf_hash(canonical))


def read_head(line: bytes) -> tuple[int, str]:
    """The ``index`` and ``prev`` of a canonical line, without parsing the rest of it."""
    if not line.startswith(b'{"index":'):
        raise ValueError("not a canonical log line")
    comma = line.index(b",", 9)
    if line[comma : comma + 9] != b',"prev":"':
        raise ValueError("not a canonical log line")
    return int(line[9:comma]), line[comma + 9 : comma + 73].decode()
