"""The bytes that are hashed stay exactly what the documented JSON form gives, however they
are produced."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from services.audit.domain.entries import PersonLink, _time, canonical_leaf, event_from_payload
from services.audit.domain.persons import PersonHead

AWKWARD_TEXT = [
    "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "",
    'quote " and backslash \\',
    "controls \x00\x01\x1f\x7f \n\r\t\b\f",
    "accents éàü, ß, ﬁ",
    "line separators \u2028\u2029",
    "emoji \U0001f600",
    "</script>",
]


@pytest.mark.parametrize("person_id", AWKWARD_TEXT)
@pytest.mark.parametrize(("count", "last_index"), [(1, 0), (7, 123456), (2**40, 2**62)])
def test_a_person_index_leaf_is_the_sorted_compact_json_of_its_fields(person_id, count, last_index):
    head = PersonHead(person_id, count, last_index, bytes(range(32)))
    document = {"count": count, "head": head.head.hex(), "id": person_id, "last_index": last_index}
    assert head.leaf_bytes() == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _documented_leaf(index, prev, event, recorded_at, person):
    """The leaf bytes as the format is documented, built the plain way."""
    rest = {
        "event_id": event.event_id, "type": event.event_type, "source": event.source,
        "source_sequence": event.source_sequence, "occurred_at": _time(event.occurred_at),
        "recorded_at": _time(recorded_at),
        "person": None if person is None else {"seq": person.seq, "prev_index": person.prev_index},
        **event.body,
    }
    tail = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f'{{"index":{index},"prev":"{prev.hex()}",{tail[1:]}'.encode()


def _every_code_point(start, stop):
    return "".join(chr(c) for c in range(start, stop) if not 0xD800 <= c <= 0xDFFF)


TEXTS = AWKWARD_TEXT + [_every_code_point(0, 0x3000), _every_code_point(0x3000, 0x10000),
                        _every_code_point(0x10000, 0x110000)[::97]]
WHEN = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("version", [None, 0, 3, True, False, 2**63 - 1, 2**64 - 1, 2**70, -(2**63)])
def test_a_leaf_is_the_documented_json_whatever_the_text(text, version):
    payload = {
        "actor": {key: text for key in ("subject", "role", "organisation", "profession", "client_id", "token_id")},
        "action": text, "crude": "R", "beneficiary_id": text[:36], "categories": [text, "b", "a"],
        "entry_ids": [text, text], "purpose": text, "emergency_reason": text, "outcome": text,
        "reason": text, "service": text, "request_id": text,
        "consent": {"grant_id": text, "version": version},
    }
    event = event_from_payload(str(uuid.uuid4()), "audit.access_recorded", "record", 2**40, WHEN, payload)
    for person in (None, PersonLink(1, None), PersonLink(2**40, 2**50)):
        leaf = canonical_leaf(12, bytes(range(32)), event, WHEN, person)
        assert leaf == _documented_leaf(12, bytes(range(32)), event, WHEN, person)


@pytest.mark.parametrize("extra", [
    {"ratio": 1e-05, "n": 1.0, "big": 2**80, "nan": float("nan"), "inf": float("-inf")},
    {"nested": {"z": [1, 2.5, None, True, {"b": 1, "a": 2}]}, "Ünïcode": "é", "A": "upper first"},
    {"": "empty key", "\u2028": "separator key"},
])
def test_a_leaf_with_extra_fields_is_the_documented_json(extra):
    payload = {"actor": {}, "action": "x.read", "crude": "R", **extra}
    event = event_from_payload(str(uuid.uuid4()), "audit.access_recorded", "record", None, WHEN, payload)
    assert "extra" in event.body
    leaf = canonical_leaf(0, bytes(32), event, WHEN, None)
    assert leaf == _documented_leaf(0, bytes(32), event, WHEN, None)


def test_a_lone_surrogate_is_refused_as_before():
    event = event_from_payload(str(uuid.uuid4()), "audit.access_recorded", "record", None, WHEN,
                               {"action": "x\ud800"})
    with pytest.raises(UnicodeEncodeError):
        canonical_leaf(0, bytes(32), event, WHEN, None)
