"""Errors as `application/problem+json` (RFC 9457), for every error path of every service.

A service raises ``Problem`` (or a subclass) from anywhere; werkzeug's HTTP errors, webargs'
validation errors and unexpected exceptions are all turned into the same shape here. The body
never carries a stack trace; a 500 is logged with its trace and answered with a request id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, g
from werkzeug.exceptions import HTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:relais:problem:"

# Stable problem types. The slug after the base never changes once published.
_TYPES_BY_STATUS = {
    400: ("bad-request", "The request is not valid"),
    401: ("unauthenticated", "Authentication is required"),
    403: ("forbidden", "This action is not allowed"),
    404: ("not-found", "Nothing was found at this address"),
    405: ("method-not-allowed", "This method is not allowed here"),
    406: ("not-acceptable", "No acceptable representation"),
    409: ("conflict", "The request conflicts with the current state"),
    413: ("body-too-large", "The request body is too large"),
    415: ("unsupported-media-type", "The request body must be JSON"),
    422: ("validation-error", "The request has invalid fields"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Something went wrong on our side"),
    502: ("bad-gateway", "A service behind the gateway answered badly"),
    503: ("unavailable", "The service is unavailable for now"),
    504: ("gateway-timeout", "A service behind the gateway did not answer in time"),
}


class Problem(Exception):
    """An error answered as problem+json. ``errors`` names the offending fields."""

    status = 400
    slug: str | None = None
    title: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        errors: Iterable[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title or self.title or "")
        if status is not None:
            self.status = status
        default_slug, default_title = _TYPES_BY_STATUS.get(self.status, ("error", "Error"))
        self.slug = slug or self.slug or default_slug
        self.title = title or self.title or default_title
        self.detail = detail
        self.errors = [dict(e) for e in errors] if errors else []
        self.headers = dict(headers or {})


class NotFound(Problem):
    status = 404


class ValidationProblem(Problem):
    status = 422


class MalformedJSON(Problem):
    status = 400
    slug = "malformed-json"
    title = "The request body is not valid JSON"


class UnsupportedMediaType(Problem):
    status = 415


class BodyTooLarge(Problem):
    status = 413


def flatten_messages(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn marshmallow/webargs nested messages into [{"field": "a.b", "message": "..."}]."""
    errors: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            errors.extend(flatten_messages(value, path))
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            errors.extend({"field": prefix or "(body)", "message": m} for m in messages)
        else:
            for m in messages:
                errors.extend(flatten_messages(m, prefix))
    else:
        errors.append({"field": prefix or "(body)", "message": str(messages)})
    return errors


def _strip_location(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """webargs prefixes every field with its location (json, query, path); keep it apart."""
    out = []
    for error in errors:
        field = error["field"]
        location, _, rest = field.partition(".")
        if location in ("json", "query", "querystring", "view_args", "path", "headers", "form"):
            error = {**error, "field": rest or "(body)", "in": "path" if location == "view_args" else location}
        out.append(error)
    return out


def problem_parts(problem: Problem, request_id: str | None) -> tuple[int, dict[str, str], bytes]:
    """The answer to ``problem`` as its status, headers and body, for a Flask view or a bare
    WSGI path alike."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    if request_id:
        body["request_id"] = request_id
    headers = {**problem.headers, "Content-Type": PROBLEM_MEDIA_TYPE, "Cache-Control": "no-store"}
    return problem.status, headers, json.dumps(body, default=str).encode()


def problem_response(problem: Problem) -> Response:
    request_id = getattr(g, "request_id", None) if _has_app_context() else None
    status, headers, body = problem_parts(problem, request_id)
    response = Response(body, status=status)
    for key, value in headers.items():
        response.headers[key] = value
    return response


def _has_app_context() -> bool:
    from flask import has_app_context

    return has_app_context()


def problem_from_http_exception(error: HTTPException) -> Problem:
    """Keep the status and the headers of a werkzeug error (Allow, WWW-Authenticate, ...)."""
    status = error.code or 500
    headers = {
        k: v for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")
    }
    data = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    errors: list[dict[str, str]] = []
    messages = data.get("errors") or data.get("messages")
    if messages:
        errors = _strip_location(flatten_messages(messages))
    detail = data.get("message")
    if status == 400 and any(e.get("message") == "Invalid JSON body." for e in errors):
        return MalformedJSON("The body could not be parsed as JSON.")
    if detail is None and status in (404, 405, 413, 415):
        detail = {
            404: "Check the address; nothing is published here.",
            405: "See the Allow header for the methods this address accepts.",
            413: "Send a smaller body.",
            415: "Send the body as application/json.",
        }[status]
    return Problem(detail, status=status, errors=errors, headers=headers)
