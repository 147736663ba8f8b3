"""JSON logs through structlog, with a redaction processor that runs last before rendering.

Nothing personal and no secret may reach a log line: keys that name a secret or an identifying
attribute are masked whatever their value, and values that look like a bearer token, a JWT, a
Belgian national register number or an e-mail address are masked wherever they appear.
Standard-library loggers (gunicorn, pika, sqlalchemy, alembic) go through the same chain.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"

# Keys whose value is never logged, matched on the lower-cased key, as a whole word part.
_SENSITIVE_KEY = re.compile(
    r"(^|_|-)("
    r"password|passwd|secret|token|access_token|refresh_token|id_token|authorization|cookie|"
    r"api_key|apikey|private_key|client_secret|code_verifier|otp|totp|"
    r"name|first_name|last_name|family_name|given_name|full_name|birth_date|birthdate|dob|"
    r"national_number|nrn|niss|ssin|email|phone|address|street|iban"
    r")($|_|-)"
)
# Keys that end in "name" but identify no person and are needed to read a log.
_SAFE_KEYS = frozenset(
    {"event", "logger", "logger_name", "service", "service_name", "queue", "queue_name",
     "exchange", "routing_key", "method", "path", "endpoint", "host", "hostname", "level",
     "timestamp", "request_id", "correlation_id", "event_id", "event_type", "status",
     "token_type", "rule_name"}
)
_VALUE_PATTERNS = (
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"),  # a JWT / JWS
    re.compile(r"\b\d{2}\.?\d{2}\.?\d{2}-?\d{3}\.?\d{2}\b"),  # Belgian national register number
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),  # e-mail address
    re.compile(r"(?i)(password|secret|token)=[^&\s]+"),  # credentials in a query string
)


def _is_sensitive_key(key: str) -> bool:
    lowered = key.lower()
    return lowered not in _SAFE_KEYS and bool(_SENSITIVE_KEY.search(lowered))


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        for pattern in _VALUE_PATTERNS:
            value = pattern.sub(REDACTED, value)
        return value
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _is_sensitive_key(k) else redact_value(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask sensitive keys and sensitive-looking values."""
    for key in list(event_dict):
        if _is_sensitive_key(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact_value(event_dict[key])
    return event_dict


def _add_service(service: str):
    def processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]):
        event_dict.setdefault("service", service)
        return event_dict

    return processor


def configure_logging(service: str, level: str = "INFO", fmt: str = "json", stream=None) -> None:
    """Configure structlog and the standard library for one process. Safe to call again."""
    renderer: Any
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
    ]
    structlog.configure(
        processors=[
            # Below the configured level an event is dropped before anything is worked out for
            # it (a service at WARNING still calls log.info for every request it answers).
            structlog.stdlib.filter_by_level,
            *shared_processors,
            structlog.processors.format_exc_info,
            redact,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared_processors, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Chatty libraries: their debug output is not ours to ship.
    for noisy in ("pika", "urllib3", "sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for gunicorn_logger in ("gunicorn.error", "gunicorn.access"):
        glog = logging.getLogger(gunicorn_logger)
        glog.handlers[:] = []
        glog.propagate = True


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
