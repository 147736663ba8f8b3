"""Redaction of secrets and personal data in log lines, unit by unit and end to end."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from shared.logs import REDACTED, configure_logging, get_logger, redact, redact_value

JWT = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0"
    ".eyJzdWIiOiJ1c2VyLTEiLCJzY29wZSI6InJlY29yZDpyZWFkIn0"
    ".MEUCIQDx3v0y4Hq0nZl9y2pY8Q"
)


def run(event_dict):
    return dict(redact(None, "info", dict(event_dict)))


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "client_secret",
        "access_token",
        "refresh_token",
        "authorization",
        "Authorization",
        "name",
        "first_name",
        "last_name",
        "email",
        "national_number",
        "birth_date",
        "user_email",
        "phone",
        "address",
        "cookie",
        "code_verifier",
    ],
)
def test_sensitive_keys_are_masked_whatever_their_value(key):
    out = run({"event": "x", key: "harmless looking value"})
    assert out[key] == REDACTED
    assert out["event"] == "x"


def test_a_non_string_value_under_a_sensitive_key_is_masked_too():
    out = run({"password": 12345, "birth_date": {"y": 1985}, "email": ["a", "b"]})
    assert out == {"password": REDACTED, "birth_date": REDACTED, "email": REDACTED}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("event", "request"),
        ("request_id", "3b0c6f8e-2d0a-4b1e-9d2f-0a1b2c3d4e5f"),
        ("service", "record"),
        ("service_name", "record"),
        ("method", "POST"),
        ("path", "/beneficiaries/<uuid:beneficiary_id>/contacts"),
        ("status", 201),
        ("queue", "alerts.record"),
        ("queue_name", "alerts.record"),
        ("routing_key", "record.contact_logged"),
        ("token_type", "Bearer"),
        ("rule_name", "not_seen_for_30_days"),
        ("duration_ms", 12.5),
        ("event_type", "consent.granted"),
        ("timestamp", "2026-11-22T10:00:00.123456Z"),
        ("count", 3),
    ],
)
def test_safe_keys_and_harmless_values_are_left_alone(key, value):
    assert run({key: value}) == {key: value}


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ("Authorization: Bearer abc.DEF-123_xyz~+/=", "abc.DEF-123_xyz"),
        ("bearer xyz", "xyz"),
        (f"token was {JWT} in the header", "eyJ"),
        ("the person 85.07.30-033.28 called", "85.07.30-033.28"),
        ("nrn 85073003328 seen", "85073003328"),
        ("mail jane.doe+x@example.org now", "jane.doe"),
        ("/oauth/token?grant_type=password&password=hunter2&x=1", "hunter2"),
        ("/cb?client_secret=s3cr3t", "s3cr3t"),
        ("/cb?access_token=abcdef", "abcdef"),
    ],
)
def test_sensitive_looking_values_are_masked_under_any_key(value, secret):
    out = run({"detail": value})
    assert secret not in out["detail"]
    assert REDACTED in out["detail"]


def test_the_text_around_a_masked_value_is_kept():
    out = run({"detail": "call from jane@example.org about 85073003328"})
    assert out["detail"] == f"call from {REDACTED} about {REDACTED}"


def test_the_query_string_keeps_its_other_parameters():
    out = run({"url": "/cb?state=abc&password=hunter2&lang=fr"})
    assert out["url"] == f"/cb?state=abc&{REDACTED}&lang=fr"


def test_nested_dicts_and_lists_are_redacted():
    event = {
        "event": "payload",
        "body": {
            "first_name": "Jane",
            "beneficiary_id": "b-1",
            "contacts": [
                {"email": "x@y.be", "modality": "phone"},
                {"note": f"Bearer {JWT}"},
                ("85.07.30-033.28", "harmless"),
            ],
        },
    }
    out = run(event)
    body = out["body"]
    assert body["first_name"] == REDACTED
    assert body["beneficiary_id"] == "b-1"
    assert body["contacts"][0] == {"email": REDACTED, "modality": "phone"}
    assert "eyJ" not in body["contacts"][1]["note"]
    assert body["contacts"][2] == (REDACTED, "harmless")
    assert isinstance(body["contacts"][2], tuple)
    assert "Jane" not in json.dumps(out)


def test_redact_value_leaves_numbers_and_none_alone():
    assert redact_value(42) == 42
    assert redact_value(None) is None
    assert redact_value(1.5) == 1.5
    assert redact_value("plain text") == "plain text"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _lines(stream: io.StringIO) -> list[dict]:
    text = stream.getvalue()
    assert text.strip(), "nothing was logged"
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_end_to_end_structlog_and_stdlib_lines_are_json_and_redacted(restore_logging):
    stream = io.StringIO()
    configure_logging("test", "INFO", "json", stream=stream)

    get_logger("relais.test").info(
        "login attempt",
        password="hunter2",
        authorization=f"Bearer {JWT}",
        detail=f"token {JWT}",
        beneficiary_id="b-1",
    )
    logging.getLogger("some.library").warning(
        "user logged in with password=%s and token %s", "hunter2", JWT
    )
    logging.getLogger("some.library").info("extra fields", extra={"client_secret": "s3cr3t"})

    text = stream.getvalue()
    assert "hunter2" not in text
    assert "s3cr3t" not in text
    assert "eyJ" not in text
    lines = _lines(stream)
    assert len(lines) == 3
    for line in lines:
        assert line["service"] == "test"
        assert "timestamp" in line
        assert "level" in line
    first, second, third = lines
    assert first["event"] == "login attempt"
    assert first["password"] == REDACTED
    assert first["authorization"] == REDACTED
    assert first["beneficiary_id"] == "b-1"
    assert first["level"] == "info"
    assert second["level"] == "warning"
    assert second["event"].startswith("user logged in with ")
    assert third["client_secret"] == REDACTED


def test_end_to_end_exception_text_is_redacted(restore_logging):
    stream = io.StringIO()
    configure_logging("test", "INFO", "json", stream=stream)
    try:
        raise RuntimeError(f"upstream said password=hunter2 and sent {JWT}")
    except RuntimeError:
        get_logger("relais.test").exception("structlog failure")
        logging.getLogger("some.library").exception("stdlib failure")

    text = stream.getvalue()
    assert "hunter2" not in text
    assert "eyJ" not in text
    lines = _lines(stream)
    assert [line["event"] for line in lines] == ["structlog failure", "stdlib failure"]
    for line in lines:
        assert "RuntimeError" in line["exception"]
        assert line["service"] == "test"


def test_level_filters_lines_below_it(restore_logging):
    stream = io.StringIO()
    configure_logging("test", "WARNING", "json", stream=stream)
    get_logger("relais.test").info("hidden")
    get_logger("relais.test").warning("shown")
    assert [line["event"] for line in _lines(stream)] == ["shown"]


def test_an_event_below_the_level_is_dropped_before_any_processor_runs(restore_logging):
    class Untouchable(dict):
        def items(self):
            raise AssertionError("a processor looked at an event below the level")

    stream = io.StringIO()
    configure_logging("test", "WARNING", "json", stream=stream)
    get_logger("relais.test").info("hidden", detail=Untouchable(a=1))
    assert stream.getvalue() == ""
    with pytest.raises(AssertionError):  # at or above the level, the processors do run
        get_logger("relais.test").warning("shown", detail=Untouchable(a=1))


def test_console_format_is_redacted_too(restore_logging):
    stream = io.StringIO()
    configure_logging("test", "INFO", "console", stream=stream)
    get_logger("relais.test").info("console", email="jane@example.org", detail=JWT)
    text = stream.getvalue()
    assert "console" in text
    assert "jane@example.org" not in text
    assert "eyJ" not in text


@pytest.mark.parametrize(("level", "logged"), [("INFO", True), ("WARNING", False)])
def test_each_answered_request_logs_one_line_at_info_and_none_above(tmp_path, restore_logging, level, logged):
    from shared.config import load_settings
    from shared.web.app_factory import create_service_app

    settings = load_settings("record", {"RELAIS_VAR_DIR": str(tmp_path), "RELAIS_LOG_LEVEL": level})
    app = create_service_app(settings, title="t")
    stream = io.StringIO()
    configure_logging("record", level, "json", stream=stream)
    assert app.test_client().get("/nowhere").status_code == 404
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("event") == "request"]
    assert requests == ([{**requests[0], "method": "GET", "path": "(unmatched)", "status": 404}] if logged else [])
