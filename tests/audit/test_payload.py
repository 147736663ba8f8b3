"""The optional consent and emergency fields of the audit payload reach the log's event model."""

from __future__ import annotations

from datetime import UTC, datetime

from services.audit.domain.entries import event_from_payload
from shared.audit_trail import Access, record_access
from shared.auth import Principal


class CapturingUnitOfWork:
    def __init__(self):
        self.events = []

    def publish(self, event_type, payload, *, correlation_id=None, version=1):
        self.events.append((event_type, payload))


PRINCIPAL = Principal(subject="pro-1", client_id="rc_1", scopes=frozenset(), token_id="jti-1",
                      role="professional", organisation="org-1", profession="nurse")


def test_a_payload_without_the_optional_fields_is_unchanged():
    uow = CapturingUnitOfWork()
    record_access(uow, PRINCIPAL, Access("timeline.read", "R", "p-1"), service="record", request_id="r-1")
    (_, payload), = uow.events
    assert "consent" not in payload and "emergency_reason" not in payload
    body = event_from_payload("e-1", "audit.access_recorded", "record", 1, datetime.now(UTC), payload).body
    assert body["consent"] is None and body["emergency_reason"] is None and "extra" not in body


def test_the_consent_and_emergency_reason_are_kept():
    uow = CapturingUnitOfWork()
    access = Access("emergency.read", "R", "p-1", purpose="emergency", consent_grant_id="g-7", consent_version=3,
                    emergency_reason="unconscious")
    record_access(uow, PRINCIPAL, access, service="record", request_id="r-1")
    (_, payload), = uow.events
    body = event_from_payload("e-1", "audit.access_recorded", "record", 1, datetime.now(UTC), payload).body
    assert body["consent"] == {"grant_id": "g-7", "version": 3}
    assert body["emergency_reason"] == "unconscious" and body["actor"]["token_id"] == "jti-1"
