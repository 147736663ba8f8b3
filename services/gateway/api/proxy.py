"""The door: `/api/v1/<service>/...` forwarded to the service, after the gateway has checked
the token. The service checks it again; the gateway only refuses early what is certainly bad.

Only a fixed list of request headers travels on; the project's internal namespace (`X-Relais-*`)
never does, whatever the client sends, and neither does it come back from a service.

Every call of the API passes here, so the door answers them from the WSGI environ, before
Flask's request cycle (``ApiDoor``): no request context, routing, session, CSRF or response
object, which cost the gateway more than the forwarding itself. It keeps all that the Flask hooks
give every other answer, through the same functions (the request id, the size limit on bodies,
the per-address limit, the security and CORS headers, problem+json, the metrics and the log
line). What it does not take goes on to Flask: CORS preflights (``OPTIONS``, answered by Flask's
automatic handler on the route below), a service the gateway does not know, and paths Flask's
router would redirect or refuse (an empty segment, a slash at the end of the service's name)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask
from werkzeug.datastructures import Headers
from werkzeug.http import HTTP_STATUS_CODES

from services.gateway.adapters.upstream import Upstreams
from services.gateway.api import edge
from services.gateway.api.edge import TooManyRequests
from shared.auth import InvalidToken, audience_of, bearer_from
from shared.web.app_factory import (
    REQUEST_ID_HEADER,
    accepts,
    answered,
    begin_request,
    end_request,
    unexpected,
)
from shared.web.problems import BodyTooLarge, NotFound, Problem, problem_parts

bp = Blueprint("proxy", __name__)

PREFIX = "/api/v1/"
RULES = ("/api/v1/<service>", "/api/v1/<service>/<path:path>")  # the routes' names in metrics and logs
INTERNAL_HEADER_PREFIX = "x-relais-"
# Each header that travels on, and where the WSGI environ holds it.
_FORWARDED_REQUEST_HEADERS = tuple(
    (name, "CONTENT_TYPE" if name == "Content-Type" else "HTTP_" + name.upper().replace("-", "_"))
    for name in ("Authorization", "Content-Type", "Accept", "Accept-Language", "If-None-Match",
                 "If-Match", "traceparent", "tracestate")
)
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "trailers", "transfer-encoding", "upgrade", "content-length", "content-encoding"}
)
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
_QUERY_SAFE = _PATH_SAFE + "?%"
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_DOOR_METHODS = frozenset(_METHODS) | {"HEAD"}
_BODILESS_STATUSES = frozenset({204, 304})
# What the services publish for anyone, without a token (GET only): the audit log's signed
# checkpoints and proofs of consistency, the keys to check them and the consent receipts with,
# the vocabularies and the consent policy. Nothing in them is about a person.
PUBLIC_PATHS: dict[str, tuple[str, ...]] = {
    "audit": ("checkpoints/latest", "checkpoints/key", "checkpoints/consistency"),
    "consent": ("receipts/keys", "policy", "vocabularies"),
    "record": ("vocabularies",),
    "alerts": ("vocabularies",),
}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def is_public(service: str, path: str, method: str) -> bool:
    return method == "GET" and path.rstrip("/") in PUBLIC_PATHS.get(service, ())


class ApiDoor:
    """WSGI middleware in front of the gateway's Flask app (``next_app``): answers the calls of
    the API to the services the gateway knows, passes everything else on."""

    def __init__(self, app: Flask, next_app: WSGIApp) -> None:
        self.extensions = app.extensions
        self.next_app = next_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        taken = self._takes(environ)
        if taken is None:
            return self.next_app(environ, start_response)
        service, path = taken
        method = environ["REQUEST_METHOD"]
        started = time.perf_counter()
        request_id = begin_request("", False)  # the gateway creates every request id
        try:
            try:
                status, headers, body = self._forward(environ, method, service, path, request_id)
            except Problem as problem:
                status, headers, body = _problem(problem, request_id)
            except Exception as error:  # noqa: BLE001 - answered as a bare 500, logged with its trace
                status, headers, body = _problem(unexpected(error), request_id)
            headers[REQUEST_ID_HEADER] = request_id
            edge.secure(headers, method, environ.get("HTTP_ORIGIN"),
                        self.extensions["relais.gateway_settings"].cors_origins)
            answered(method, RULES[1] if path else RULES[0], status, time.perf_counter() - started)
            start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}",
                           headers.to_wsgi_list())
            return [] if method == "HEAD" else [body]  # a HEAD's answer says how long, sends none
        finally:
            end_request()

    def _takes(self, environ: dict[str, Any]) -> tuple[str, str] | None:
        """The service and the path below it when the door answers this request itself. The
        path reads as Flask's router reads it (the server's bytes as UTF-8)."""
        if environ.get("REQUEST_METHOD") not in _DOOR_METHODS:
            return None
        raw = environ.get("PATH_INFO") or ""
        if not raw.startswith(PREFIX):
            return None
        try:
            path = raw.encode("latin-1").decode("utf-8", "replace")
        except UnicodeEncodeError:  # not what a WSGI server gives: Flask judges it
            return None
        service, slash, below = path[len(PREFIX):].partition("/")
        if "//" in path or (slash and not below) or not self.extensions["relais.upstreams"].knows(service):
            return None
        return service, below

    def _forward(self, environ: dict[str, Any], method: str, service: str, path: str,
                 request_id: str) -> tuple[int, Headers, bytes]:
        extensions = self.extensions
        limit = extensions["relais.settings"].max_body_bytes
        length = _content_length(environ)
        if length is not None and length > limit:
            raise BodyTooLarge(f"The body may not exceed {limit} bytes.")
        address = environ.get("REMOTE_ADDR")
        edge.limit_address(extensions["relais.address_limiter"], address)
        if not is_public(service, path, method):
            principal = extensions["relais.verifier"].verify_for(
                bearer_from(environ.get("HTTP_AUTHORIZATION", "")), audience_of(service))
            if extensions["relais.oauth"].revoked.is_revoked(principal.token_id):
                raise InvalidToken("The token has been revoked.")
            wait = extensions["relais.client_limiter"].hit(principal.client_id)
            if wait:
                raise TooManyRequests(wait, "client")
        # The path as the service must receive it: the server decoded it, so it is encoded again;
        # the query string comes as the client sent it, with only what a URL may not hold encoded.
        target = "/" + quote(path, safe=_PATH_SAFE)
        if query := environ.get("QUERY_STRING"):
            target += "?" + quote(query.encode("latin-1"), safe=_QUERY_SAFE)
        headers = {name: value for name, key in _FORWARDED_REQUEST_HEADERS
                   if (value := environ.get(key)) is not None}
        headers[REQUEST_ID_HEADER] = request_id
        headers["X-Forwarded-For"] = address or ""
        headers["X-Forwarded-Proto"] = environ.get("wsgi.url_scheme", "http")
        headers["X-Forwarded-Host"] = _host(environ)
        upstreams: Upstreams = extensions["relais.upstreams"]
        answer = upstreams.call(service, method, target, headers, _body(environ, length, limit))
        out = Headers()
        for name, value in answer.headers:
            lowered = name.lower()
            if lowered.startswith(INTERNAL_HEADER_PREFIX) or (
                    lowered in _HOP_BY_HOP and not (method == "HEAD" and lowered == "content-length")):
                continue
            out.add(name, value)
        if method != "HEAD" and answer.status not in _BODILESS_STATUSES:
            out["Content-Length"] = str(len(answer.body))
        return answer.status, out, answer.body


def _problem(problem: Problem, request_id: str) -> tuple[int, Headers, bytes]:
    status, headers, body = problem_parts(problem, request_id)
    out = Headers(headers)
    out["Content-Length"] = str(len(body))
    return status, out, body


def _content_length(environ: dict[str, Any]) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def _body(environ: dict[str, Any], length: int | None, limit: int) -> bytes | None:
    """The request's body, at most ``limit`` bytes: as long as its Content-Length says, or, sent
    in chunks, what the server read of it (it marks such a stream ``wsgi.input_terminated``)."""
    stream = environ["wsgi.input"]
    if length is not None:
        data = stream.read(length) if length else b""
    elif environ.get("wsgi.input_terminated"):
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise BodyTooLarge(f"The body may not exceed {limit} bytes.")
    else:
        data = b""
    return data or None


def _host(environ: dict[str, Any]) -> str:
    """The host the client asked for, as Flask's ``request.host`` gives it."""
    if host := environ.get("HTTP_HOST"):
        return host
    name, port = environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", "")
    scheme = environ.get("wsgi.url_scheme", "http")
    return name if (scheme, port) in (("http", "80"), ("https", "443")) or not port else f"{name}:{port}"


@bp.route("/api/v1/<service>/<path:path>", methods=_METHODS)
@bp.route("/api/v1/<service>", defaults={"path": ""}, methods=_METHODS)
@accepts("*")
def forward(service: str, path: str):
    """The door's route: it names the API in the router, so that Flask answers its CORS
    preflights; what reaches this view is what ``ApiDoor`` did not take, a service the gateway
    does not know."""
    raise NotFound("There is no such service.")
