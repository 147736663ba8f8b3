"""The door: `/api/v1/<service>/...` forwarded to the service, after the gateway has checked
the token. The service checks it again; the gateway only refuses early what is certainly bad.

Only a fixed list of request headers travels on; the project's internal namespace (`X-Relais-*`)
never does, whatever the client sends, and neither does it come back from a service."""

from __future__ import annotations

import math
from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, request

from services.gateway.adapters.upstream import Upstreams
from shared.auth import InvalidToken, audience_of, bearer_token
from shared.web.app_factory import REQUEST_ID_HEADER, accepts
from shared.web.problems import NotFound, Problem

bp = Blueprint("proxy", __name__)

INTERNAL_HEADER_PREFIX = "x-relais-"
_FORWARDED_REQUEST_HEADERS = (
    "Authorization", "Content-Type", "Accept", "Accept-Language", "If-None-Match", "If-Match",
    "traceparent", "tracestate",
)
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "trailers", "transfer-encoding", "upgrade", "content-length", "content-encoding"}
)
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
_QUERY_SAFE = _PATH_SAFE + "?%"
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# What the services publish for anyone, without a token (GET only): the audit log's signed
# checkpoints and proofs of consistency, the keys to check them and the consent receipts with,
# the vocabularies and the consent policy. Nothing in them is about a person.
PUBLIC_PATHS: dict[str, tuple[str, ...]] = {
    "audit": ("checkpoints/latest", "checkpoints/key", "checkpoints/consistency"),
    "consent": ("receipts/keys", "policy", "vocabularies"),
    "record": ("vocabularies",),
    "alerts": ("vocabularies",),
}


def is_public(service: str, path: str, method: str) -> bool:
    return method == "GET" and path.rstrip("/") in PUBLIC_PATHS.get(service, ())


class TooManyRequests(Problem):
    status = 429

    def __init__(self, wait: float, who: str) -> None:
        super().__init__(f"Too many requests from this {who}; slow down.",
                         headers={"Retry-After": str(max(1, math.ceil(wait)))})


def forwarded_headers() -> dict[str, str]:
    """What the service receives: the allowed headers, a fresh request id and X-Forwarded-*."""
    headers = {
        name: value
        for name in _FORWARDED_REQUEST_HEADERS
        if (value := request.headers.get(name)) is not None
    }
    headers[REQUEST_ID_HEADER] = g.request_id
    headers["X-Forwarded-For"] = request.remote_addr or ""
    headers["X-Forwarded-Proto"] = request.scheme
    headers["X-Forwarded-Host"] = request.host
    return headers


@bp.route("/api/v1/<service>/<path:path>", methods=_METHODS)
@bp.route("/api/v1/<service>", defaults={"path": ""}, methods=_METHODS)
@accepts("*")
def forward(service: str, path: str):
    upstreams: Upstreams = current_app.extensions["relais.upstreams"]
    if not upstreams.knows(service):
        raise NotFound("There is no such service.")
    if not is_public(service, path, request.method):
        principal = current_app.extensions["relais.verifier"].verify_for(bearer_token(), audience_of(service))
        if current_app.extensions["relais.oauth"].revoked.is_revoked(principal.token_id):
            raise InvalidToken("The token has been revoked.")
        wait = current_app.extensions["relais.client_limiter"].hit(principal.client_id)
        if wait:
            raise TooManyRequests(wait, "client")
    # The path as the service must receive it: the server decoded it, so it is encoded again;
    # the query string comes as the client sent it, with only what a URL may not hold encoded.
    path = "/" + quote(path, safe=_PATH_SAFE)
    if request.query_string:
        path += "?" + quote(request.query_string, safe=_QUERY_SAFE)
    upstream = upstreams.call(service, request.method, path, forwarded_headers(), request.get_data() or None)
    response = Response(upstream.body, status=upstream.status)
    for name, value in upstream.headers:
        lowered = name.lower()
        if lowered in _HOP_BY_HOP or lowered.startswith(INTERNAL_HEADER_PREFIX):
            continue
        response.headers[name] = value
    response.headers[REQUEST_ID_HEADER] = g.request_id
    return response
