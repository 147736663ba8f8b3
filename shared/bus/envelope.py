"""The one event envelope of Relais, validated by marshmallow on the way out and on the way in."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from shared.privacy import personal_keys

EVENT_TYPE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_.]*$")


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


def encode(envelope: Envelope) -> bytes:
    """Validate and serialise. Raises InvalidEnvelope before anything is written or sent."""
    document = {
        "id": envelope.id,
        "type": envelope.type,
        "version": envelope.version,
        "occurred_at": envelope.occurred_at.astimezone(UTC).isoformat(),
        "producer": envelope.producer,
        "correlation_id": envelope.correlation_id,
        "sequence": envelope.sequence,
        "payload": envelope.payload,
    }
    errors = _schema.validate(document)
    if errors:
        raise InvalidEnvelope(f"invalid event: {errors}")
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str).encode()


def decode(body: bytes) -> Envelope:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEnvelope(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidEnvelope("an event is a JSON object")
    try:
        return _schema.load(document)
    except ma.ValidationError as exc:
        raise InvalidEnvelope(f"invalid event: {exc.messages}") from None
