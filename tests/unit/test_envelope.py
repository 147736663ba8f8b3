"""The event envelope: what may travel on the bus, checked on the way out and on the way in."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import marshmallow as ma
import pytest
from sqlalchemy import MetaData, create_engine, func, select

from shared.bus.envelope import Envelope, EnvelopeSchema, InvalidEnvelope, decode, encode
from shared.bus.outbox import Outbox
from shared.bus.schema import outbox_table
from shared.privacy import personal_keys


def envelope(**overrides):
    fields = {
        "type": "record.contact_logged",
        "producer": "record",
        "payload": {
            "entry_id": str(uuid.uuid4()),
            "beneficiary_id": str(uuid.uuid4()),
            "modality": "phone",
            "outcome": "met",
            "organisation": "org-1",
            "profession": "nurse",
        },
        "occurred_at": datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        "correlation_id": "req-123",
        "sequence": 7,
    }
    fields.update(overrides)
    return Envelope(**fields)


def document(**overrides):
    doc = json.loads(encode(envelope()))
    doc.update(overrides)
    return doc


def test_round_trip():
    original = envelope()
    assert decode(encode(original)) == original


def test_round_trip_with_defaults():
    original = Envelope(type="consent.granted", producer="consent", payload={"beneficiary_id": "b"})
    decoded = decode(encode(original))
    assert decoded == original
    assert decoded.version == 1
    assert decoded.correlation_id is None
    assert decoded.sequence is None
    assert decoded.occurred_at.tzinfo is not None
    uuid.UUID(decoded.id)


def test_encoding_is_compact_sorted_json_in_utc():
    body = encode(
        envelope(occurred_at=datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1))))
    )
    doc = json.loads(body)
    assert list(doc) == sorted(doc)
    assert b" " not in body.replace(b"record.contact_logged", b"")  # no padding between tokens
    assert doc["occurred_at"] == "2026-03-01T09:30:00+00:00"
    assert set(doc) == {
        "id",
        "type",
        "version",
        "occurred_at",
        "producer",
        "correlation_id",
        "sequence",
        "payload",
    }


def test_encoding_writes_utf8_and_what_json_has_no_form_for_as_text():
    from shared.bus.envelope import _document, serialise

    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    document = _document(envelope(payload={"code": "sans-abri été", "nested": {"at": when, "n": 3}}))
    body = serialise(document)
    assert "sans-abri été".encode() in body
    assert json.loads(body) == json.loads(json.dumps(document, sort_keys=True, default=str))
    assert json.loads(body)["payload"]["nested"] == {"at": "2026-03-01 09:30:00+00:00", "n": 3}


def test_routing_key_is_the_type():
    assert envelope().routing_key == "record.contact_logged"


def test_decode_refuses_non_json():
    with pytest.raises(InvalidEnvelope, match="not JSON"):
        decode(b"{not json")


def test_decode_refuses_bytes_that_are_not_utf8():
    with pytest.raises(InvalidEnvelope):
        decode(b"\xff\xfe\x00{")


@pytest.mark.parametrize("body", [b"[]", b'[{"type": "x.y"}]', b'"text"', b"42", b"null"])
def test_decode_refuses_json_that_is_not_an_object(body):
    with pytest.raises(InvalidEnvelope, match="JSON object"):
        decode(body)


def test_decode_reads_a_naive_occurred_at_as_utc():
    decoded = decode(json.dumps(document(occurred_at="2026-03-01T09:30:00")).encode())
    assert decoded.occurred_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert decoded.occurred_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("missing", ["id", "type", "version", "occurred_at", "producer", "payload"])
def test_decode_refuses_a_missing_field(missing):
    doc = document()
    del doc[missing]
    with pytest.raises(InvalidEnvelope, match=missing):
        decode(json.dumps(doc).encode())


def test_optional_fields_may_be_left_out():
    doc = document()
    del doc["correlation_id"], doc["sequence"]
    decoded = decode(json.dumps(doc).encode())
    assert decoded.correlation_id is None and decoded.sequence is None


def test_decode_refuses_an_unknown_field():
    with pytest.raises(InvalidEnvelope, match="priority"):
        decode(json.dumps(document(priority="high")).encode())


@pytest.mark.parametrize(
    "bad_type",
    [
        "record",
        "Record.contact_logged",
        "record.",
        ".contact",
        "record contact",
        "record.contact-logged",
        "1a.b",
        "",
    ],
)
def test_decode_refuses_a_bad_type_string(bad_type):
    with pytest.raises(InvalidEnvelope, match="type"):
        decode(json.dumps(document(type=bad_type)).encode())


@pytest.mark.parametrize("version", [0, -1, "1", 1.5, True, None])
def test_decode_refuses_a_bad_version(version):
    with pytest.raises(InvalidEnvelope, match="version"):
        decode(json.dumps(document(version=version)).encode())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "not-a-uuid"),
        ("occurred_at", "yesterday"),
        ("producer", ""),
        ("producer", "p" * 41),
        ("payload", ["a", "list"]),
        ("payload", None),
        ("sequence", "7"),
        ("correlation_id", "c" * 129),
    ],
)
def test_decode_refuses_bad_field_values(field, value):
    with pytest.raises(InvalidEnvelope, match=field):
        decode(json.dumps(document(**{field: value})).encode())


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"beneficiary_id": "b", "first_name": "Jane"}, "first_name"),
        ({"beneficiary_id": "b", "person": {"address": "Rue de la Loi 16"}}, "person.address"),
        ({"contacts": [{"modality": "phone"}, {"email": "jane@example.org"}]}, "contacts[1].email"),
        ({"national_number": "85073003328"}, "national_number"),
        ({"entry": {"notes": "said a lot"}}, "entry.notes"),
        ({"Birth_Date": "1985-07-30"}, "Birth_Date"),
    ],
)
def test_decode_refuses_a_payload_with_personal_data(payload, where):
    with pytest.raises(InvalidEnvelope, match="personal data") as caught:
        decode(json.dumps(document(payload=payload)).encode())
    assert where in str(caught.value)


def test_personal_keys_lists_every_path():
    payload = {"first_name": "J", "nested": {"address": {"street": "x"}}, "items": [{"email": "e"}]}
    assert personal_keys(payload) == [
        "first_name",
        "nested.address",
        "nested.address.street",
        "items[0].email",
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"beneficiary_id": "b", "organisation": "org-1", "profession": "nurse"},
        {"rule": "not_seen_for_30_days", "days": 30, "alert_id": "a-1"},
        {"entry_ids": ["a", "b"], "categories": ["contacts"]},
    ],
)
def test_payloads_without_personal_data_pass(payload):
    assert decode(encode(envelope(payload=payload))).payload == payload


@pytest.mark.parametrize(
    "payload",
    [
        {"first_name": "Jane"},
        {"person": {"address": "Rue de la Loi 16"}},
        {"list": [{"email": "jane@example.org"}]},
    ],
)
def test_encode_refuses_personal_data(payload):
    with pytest.raises(InvalidEnvelope, match="personal data"):
        encode(envelope(payload=payload))


@pytest.mark.parametrize(
    "overrides",
    [{"type": "NoDot"}, {"version": 0}, {"producer": ""}, {"correlation_id": "c" * 200}],
)
def test_encode_refuses_an_invalid_envelope(overrides):
    with pytest.raises(InvalidEnvelope):
        encode(envelope(**overrides))


def test_outbox_writes_nothing_when_the_payload_carries_personal_data(tmp_path):
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    metadata.create_all(engine)
    outbox = Outbox(table, "record")
    try:
        with engine.begin() as connection:
            outbox.add(connection, "record.contact_logged", {"beneficiary_id": "b"})
            with pytest.raises(InvalidEnvelope):
                outbox.add(
                    connection, "record.contact_logged", {"beneficiary_id": "b", "email": "j@x.be"}
                )
        with engine.connect() as connection:
            bodies = connection.execute(select(table.c.body)).scalars().all()
            assert connection.execute(select(func.count()).select_from(table)).scalar() == 1
        assert len(bodies) == 1
        assert "j@x.be" not in bodies[0]
        assert decode(bodies[0].encode()).payload == {"beneficiary_id": "b"}
    finally:
        engine.dispose()


# -- the direct check on the consume path agrees with the schema --------------------------------
_VARIANTS = {
    "id": [str(uuid.uuid4()), str(uuid.uuid4()).upper(), uuid.uuid4().hex, "not-a-uuid", 7, None],
    "type": ["record.contact_logged", "a.b.c", "a.b\n", "Record.x", "x", "", 3, None],
    "version": [1, 2, 0, -1, True, False, 1.0, "1", None],
    "occurred_at": ["2026-03-01T09:30:15.123456+00:00", "2026-03-01T09:30:15+00:00",
                    "2026-03-01T10:30:15+01:00", "2026-03-01T09:30:15Z", "2026-03-01T09:30:15",
                    "2026-03-01", "yesterday", "", 1700000000, None],
    "producer": ["record", "", "p" * 40, "p" * 41, 5, None],
    "correlation_id": [None, "req-1", "c" * 128, "c" * 129, 12],
    "sequence": [None, 1, 0, -5, True, 1.0, "7"],
    "payload": [{}, {"beneficiary_id": "b"}, {"nested": {"email": "e"}}, {"list": [{"nrn": 1}]},
                {"Full_Name": "x"}, [], None, "text"],
}


def _schema_result(doc):
    try:
        return EnvelopeSchema().load(doc)
    except ma.ValidationError:
        return InvalidEnvelope


def _decode_result(doc):
    try:
        return decode(json.dumps(doc).encode())
    except InvalidEnvelope:
        return InvalidEnvelope


@pytest.mark.parametrize(
    ("field", "value"), [(f, v) for f, values in _VARIANTS.items() for v in values]
)
def test_decode_accepts_and_refuses_exactly_what_the_schema_does(field, value):
    doc = document(**{field: value})
    expected = _schema_result(doc)
    assert _decode_result(doc) == expected
    if expected is not InvalidEnvelope:
        assert decode(json.dumps(doc).encode()).occurred_at.tzinfo is not None


@pytest.mark.parametrize("missing", ["id", "type", "version", "occurred_at", "producer",
                                     "payload", "correlation_id", "sequence"])
def test_decode_agrees_with_the_schema_on_missing_fields(missing):
    doc = document()
    del doc[missing]
    assert _decode_result(doc) == _schema_result(doc)


def test_decode_agrees_with_the_schema_on_an_extra_field():
    doc = document(extra_field=1)
    assert _decode_result(doc) == _schema_result(doc) == InvalidEnvelope


def test_an_event_as_encode_writes_it_is_decoded_without_the_schema(monkeypatch):
    import shared.bus.envelope as module

    original = envelope()
    body = encode(original)

    class Refusing:
        def load(self, _document):
            raise AssertionError("the usual form must not need the schema")

    monkeypatch.setattr(module, "_schema", Refusing())
    assert decode(body) == original


# -- the direct check on the way out agrees with the schema too ----------------------------------
_ENVELOPE_VARIANTS = {
    field: values for field, values in _VARIANTS.items() if field != "occurred_at"
} | {"payload": _VARIANTS["payload"] + [{1: "a"}, {"nested": {2: "b"}}, {"when": datetime(2026, 1, 1)}],
     "occurred_at": [datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
                     datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))]}


def _encode_result(value):
    try:
        return json.loads(encode(value))
    except InvalidEnvelope:
        return InvalidEnvelope


def _schema_verdict(value):
    from shared.bus.envelope import _document, serialise

    doc = _document(value)
    return InvalidEnvelope if EnvelopeSchema().validate(doc) else json.loads(serialise(doc))


@pytest.mark.parametrize(
    ("field", "value"), [(f, v) for f, values in _ENVELOPE_VARIANTS.items() for v in values]
)
def test_encode_accepts_and_refuses_exactly_what_the_schema_does(field, value):
    candidate = envelope(**{field: value})
    assert _encode_result(candidate) == _schema_verdict(candidate)


def test_an_event_in_the_usual_form_is_encoded_without_the_schema(monkeypatch):
    import shared.bus.envelope as module

    class Refusing:
        def validate(self, _document):
            raise AssertionError("the usual form must not need the schema")

    usual = envelope()
    monkeypatch.setattr(module, "_schema", Refusing())
    assert decode(encode(usual)) == usual
    with pytest.raises(AssertionError):  # anything else still goes through it
        encode(envelope(id=str(uuid.uuid4()).upper()))
