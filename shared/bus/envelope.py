"""The one event envelope of Relais, validated by marshmallow on the way out and on the way in.

``EnvelopeSchema`` is the contract. Encoding, which every access does for its audit event, and
decoding, which every consumer does for every delivery, first try a direct check of the exact
form ``encode`` writes (canonical UUID, ISO time, the known fields with their types and limits,
no personal key); each of its checks is one the schema makes too, or a stricter one, so what it
accepts the schema would accept, and load to the same ``Envelope``. Anything else goes through
the schema, which names what is wrong or accepts the less usual spellings it allows (an
upper-case UUID, a naive time).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import orjson

from shared.privacy import has_personal_keys, personal_keys

EVENT_TYPE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_.]*$")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_FIELDS = frozenset(
    ("id", "type", "version", "occurred_at", "producer", "correlation_id", "sequence", "payload")
)


class InvalidEnvelope(ValueError):
    """A message that is not a Relais event; it can never succeed, so it is dead-lettered."""


@dataclass(frozen=True)
class Envelope:
    type: str
    producer: str
    payload: dict[str, Any]
    version: int = 1
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    sequence: int | None = None

    @property
    def routing_key(self) -> str:
        return self.type


class EnvelopeSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    id = ma.fields.UUID(required=True)
    type = ma.fields.String(required=True, validate=ma.validate.Regexp(EVENT_TYPE))
    version = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1))
    occurred_at = ma.fields.AwareDateTime(required=True, default_timezone=UTC)
    producer = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    correlation_id = ma.fields.String(load_default=None, allow_none=True,
                                      validate=ma.validate.Length(max=128))
    sequence = ma.fields.Integer(load_default=None, allow_none=True, strict=True)
    payload = ma.fields.Dict(keys=ma.fields.String(), required=True)

    @ma.validates("payload")
    def _no_personal_data(self, value: dict[str, Any], **_kwargs: Any) -> None:
        found = personal_keys(value)
        if found:
            raise ma.ValidationError(f"personal data may not travel on the bus: {', '.join(found)}")

    @ma.post_load
    def _make(self, data: dict[str, Any], **_kwargs: Any) -> Envelope:
        data["id"] = str(data["id"])
        return Envelope(**data)


_schema = EnvelopeSchema()


def _document(envelope: Envelope) -> dict[str, Any]:
    return {
        "id": envelope.id,
        "type": envelope.type,
        "version": envelope.version,
        "occurred_at": envelope.occurred_at.astimezone(UTC).isoformat(),
        "producer": envelope.producer,
        "correlation_id": envelope.correlation_id,
        "sequence": envelope.sequence,
        "payload": envelope.payload,
    }


# Compact JSON with sorted keys, in UTF-8; a value JSON has no form for (a time, a dataclass) is
# written as its ``str()`` and a key that is not a string as a string, as ``json.dumps(...,
# default=str)`` did.
_SERIALISE_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                      | orjson.OPT_PASSTHROUGH_DATACLASS)


def serialise(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=_SERIALISE_OPTIONS, default=str)


def encode(envelope: Envelope) -> bytes:
    """Validate and serialise. Raises InvalidEnvelope before anything is written or sent.
    An envelope in the usual form passes the direct check (``_is_usual``, the one decoding
    uses); anything else goes through the schema, which names what is wrong."""
    document = _document(envelope)
    if not _is_usual(document):
        errors = _schema.validate(document)
        if errors:
            raise InvalidEnvelope(f"invalid event: {errors}")
    return serialise(document)


_SCALARS = (str, int, float, bool, type(None))
_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _shape(envelope: Envelope) -> tuple[Any, ...] | None:
    """Everything the schema's verdict depends on once the id is a UUID, the time is aware and
    every payload value is a scalar: then two envelopes of one shape are valid alike."""
    if envelope.occurred_at.tzinfo is None or not all(
            isinstance(k, str) and isinstance(v, _SCALARS) for k, v in envelope.payload.items()):
        return None
    if not isinstance(envelope.id, str) or not _CANONICAL_UUID.match(envelope.id):
        return None
    correlation = envelope.correlation_id
    return (envelope.type, type(envelope.version), envelope.version, envelope.producer,
            None if correlation is None else (type(correlation), len(correlation)),
            type(envelope.sequence), tuple(sorted(envelope.payload)))


def encode_many(envelopes: list[Envelope]) -> list[bytes]:
    """``encode`` for each, for batches of many alike events (a scan raising thousands of
    alerts): each distinct shape is validated in full once, the rest are only serialised."""
    validated: set[tuple[Any, ...]] = set()
    out = []
    for envelope in envelopes:
        shape = _shape(envelope)
        if shape is not None and shape in validated:
            out.append(serialise(_document(envelope)))
            continue
        out.append(encode(envelope))
        if shape is not None:
            validated.add(shape)
    return out


def decode(body: bytes) -> Envelope:
    try:
        document = orjson.loads(body)
    except ValueError as exc:  # orjson.JSONDecodeError, also for bytes that are not UTF-8
        raise InvalidEnvelope(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidEnvelope("an event is a JSON object")
    envelope = _load_usual(document)
    if envelope is not None:
        return envelope
    try:
        return _schema.load(document)
    except ma.ValidationError as exc:
        raise InvalidEnvelope(f"invalid event: {exc.messages}") from None


def _is_usual(document: dict[str, Any]) -> bool:
    """Whether a document has the exact form ``encode`` writes, every field of the right type
    within its limits and no personal key in the payload (``occurred_at`` a string, which the
    caller parses). Mirrors ``EnvelopeSchema`` field by field: each check is one the schema
    makes too, or a stricter one, so a document it passes the schema would pass as well."""
    if not document.keys() <= _FIELDS:
        return False  # an unknown field: the schema refuses it
    try:
        event_id = document["id"]
        event_type = document["type"]
        version = document["version"]
        occurred_at = document["occurred_at"]
        producer = document["producer"]
        payload = document["payload"]
    except KeyError:
        return False
    correlation_id = document.get("correlation_id")
    sequence = document.get("sequence")
    return not (
        type(event_id) is not str
        or _CANONICAL_UUID.fullmatch(event_id) is None
        or type(event_type) is not str
        or EVENT_TYPE.match(event_type) is None
        or type(version) is not int  # bool is not int here, as for the strict schema field
        or version < 1
        or type(occurred_at) is not str
        or type(producer) is not str
        or not 1 <= len(producer) <= 40
        or not (correlation_id is None or (type(correlation_id) is str and len(correlation_id) <= 128))
        or not (sequence is None or type(sequence) is int)
        or type(payload) is not dict
        or not all(type(key) is str for key in payload)
        or has_personal_keys(payload)
    )


def _load_usual(document: dict[str, Any]) -> Envelope | None:
    """The envelope of a document in the form ``encode`` writes; None for anything else, which
    the schema then decides on. Mirrors ``EnvelopeSchema`` field by field."""
    if not _is_usual(document):
        return None
    occurred_at = document["occurred_at"]
    try:
        when = datetime.fromisoformat(occurred_at)  # what the schema's ISO field parses with
    except ValueError:
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        when = when.replace(tzinfo=UTC)
    return Envelope(
        type=document["type"],
        producer=document["producer"],
        payload=document["payload"],
        version=document["version"],
        id=document["id"],
        occurred_at=when,
        correlation_id=document.get("correlation_id"),
        sequence=document.get("sequence"),
    )
