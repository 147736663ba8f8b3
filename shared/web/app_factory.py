"""The HTTP side every service shares: one app factory that gives each Flask service
problem+json errors, request ids, body limits, JSON-only bodies, health and readiness,
Prometheus metrics, structured access logs and its OpenAPI document."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import flask_smorest
import structlog
from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from shared.config import Settings
from shared.logs import configure_logging, get_logger
from shared.web import metrics
from shared.web.problems import (
    BodyTooLarge,
    MalformedJSON,
    Problem,
    UnsupportedMediaType,
    problem_from_http_exception,
    problem_response,
)

log = get_logger("relais.http")
# The line each answered request logs is asked for here first: below the configured level, not
# even structlog's logger is made for it (which costs more than the rest of the after-request).
_request_lines = logging.getLogger("relais.http")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")

ReadinessCheck = Callable[[], bool]


class ProblemApi(flask_smorest.Api):
    """flask-smorest's Api, answering every HTTP error as problem+json with its headers kept
    (its own handler drops ``Allow`` on 405 and ``WWW-Authenticate`` on 401)."""

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        return problem_response(problem_from_http_exception(error))


def accepts(*media_types: str) -> Callable:
    """Let a view take bodies of other media types than JSON (e.g. an OAuth form post)."""

    def decorate(view: Callable) -> Callable:
        view._relais_accepts = frozenset(media_types)  # type: ignore[attr-defined]
        return view

    return decorate


def create_service_app(
    settings: Settings,
    *,
    title: str,
    version: str = "1.0.0",
    blueprints: Iterable[flask_smorest.Blueprint] = (),
    plain_blueprints: Iterable[Any] = (),
    readiness: Mapping[str, ReadinessCheck] | None = None,
    trust_request_id: bool = True,
    config: Mapping[str, Any] | None = None,
) -> Flask:
    """Build a Flask app for one service. ``readiness`` names the checks /readyz runs."""
    configure_logging(settings.service, settings.log_level, settings.log_format)
    app = Flask(f"relais.{settings.service}")
    app.config.update(
        API_TITLE=title,
        API_VERSION=version,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
        RELAIS_SETTINGS=settings,
    )
    if config:
        app.config.update(config)
    app.extensions["relais.settings"] = settings
    app.extensions["relais.trust_request_id"] = trust_request_id
    api = ProblemApi(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    app.extensions["relais.api"] = api
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    for blueprint in plain_blueprints:
        app.register_blueprint(blueprint)
    _install_request_hooks(app, settings, trust_request_id)
    _install_error_handlers(app)
    _install_health(app, readiness or {})
    metrics.install(app, settings.service)
    return app


def begin_request(incoming: str, trust_request_id: bool) -> str:
    """The request's id (the caller's, when it is trusted and well formed, or a new one), bound
    to every log line until ``end_request``."""
    request_id = incoming if trust_request_id and _REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


def end_request() -> None:
    structlog.contextvars.clear_contextvars()


def answered(method: str, rule: str, status: int, seconds: float) -> None:
    """What every answered request leaves: its metrics and, but for the probes, one log line
    naming the route (never the path, which may hold an id)."""
    metrics.observe(method, rule, status, seconds)
    if rule not in ("/healthz", "/readyz", "/metrics") and _request_lines.isEnabledFor(logging.INFO):
        log.info("request", method=method, path=rule, status=status, duration_ms=round(seconds * 1000, 2))


def _install_request_hooks(app: Flask, settings: Settings, trust_request_id: bool) -> None:
    @app.before_request
    def _start() -> None:
        g.started_at = time.perf_counter()
        g.request_id = begin_request(request.headers.get(REQUEST_ID_HEADER, ""), trust_request_id)
        _check_body(settings)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = getattr(g, "request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        elapsed = time.perf_counter() - getattr(g, "started_at", time.perf_counter())
        rule = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        answered(request.method, rule, response.status_code, elapsed)
        return response

    @app.teardown_request
    def _clear(_exc: BaseException | None) -> None:
        end_request()


def _check_body(settings: Settings) -> None:
    """413, 415 and malformed JSON, answered before any view sees the request."""
    if request.routing_exception is not None:
        return  # 404 and 405 win over what the body looks like
    length = request.content_length
    if length is not None and length > settings.max_body_bytes:
        raise BodyTooLarge(f"The body may not exceed {settings.max_body_bytes} bytes.")
    if request.method not in _BODY_METHODS:
        return
    has_body = (length or 0) > 0 or request.headers.get("Transfer-Encoding", "").lower() == "chunked"
    if not has_body:
        return
    view = None
    if request.endpoint:
        from flask import current_app

        view = current_app.view_functions.get(request.endpoint)
    allowed = getattr(view, "_relais_accepts", frozenset())
    mimetype = request.mimetype or ""
    if mimetype in allowed or "*" in allowed:
        return  # the view (or the service behind a proxy) judges the body itself
    if not _JSON_TYPES.match(mimetype):
        raise UnsupportedMediaType(
            f"Send the body as application/json (got {mimetype or 'no Content-Type'})."
        )
    try:
        raw = request.get_data(cache=True)
    except HTTPException as exc:  # RequestEntityTooLarge on a chunked body
        raise BodyTooLarge(f"The body may not exceed {settings.max_body_bytes} bytes.") from exc
    if len(raw) > settings.max_body_bytes:
        raise BodyTooLarge(f"The body may not exceed {settings.max_body_bytes} bytes.")
    try:
        json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedJSON("The body could not be parsed as JSON.") from None


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(problem: Problem):
        return problem_response(problem)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return problem_response(problem_from_http_exception(error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return problem_response(problem_from_http_exception(error))
        return problem_response(unexpected(error))


def unexpected(error: Exception) -> Problem:
    """An error no handler expected: logged with its trace, answered as a bare 500."""
    log.exception("unhandled error", error=type(error).__name__)
    return Problem("The error was logged; quote the request id if you report it.", status=500)


def _install_health(app: Flask, readiness: Mapping[str, ReadinessCheck]) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        results = {}
        for name, check in readiness.items():
            try:
                results[name] = "ok" if check() else "unavailable"
            except Exception:
                results[name] = "unavailable"
        ready = all(v == "ok" for v in results.values())
        return jsonify(status="ok" if ready else "unavailable", checks=results), (
            200 if ready else 503
        )
