"""The door: `/api/v1/<service>/...` forwarded to the service, after the gateway has checked
the token. The service checks it again; the gateway only refuses early what is certainly bad."""

from __future__ import annotations

import requests
from flask import Blueprint, Response, current_app, g, request

from shared.auth import audience_of, bearer_token
from shared.web.app_factory import REQUEST_ID_HEADER, accepts
from shared.web.problems import NotFound, Problem

bp = Blueprint("proxy", __name__)

INTERNAL_HEADER_PREFIX = "x-relais-"
_FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type", "Accept", "Accept-Language", "If-None-Match")
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "trailers", "transfer-encoding", "upgrade", "content-length", "content-encoding"}
)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@bp.route("/api/v1/<service>/<path:path>", methods=_METHODS)
@bp.route("/api/v1/<service>", defaults={"path": ""}, methods=_METHODS)
@accepts("*")
def forward(service: str, path: str):
    base = current_app.extensions["relais.settings"].service_urls.get(service)
    if base is None:
        raise NotFound("There is no such service.")
    verifier = current_app.extensions["relais.verifier"]
    verifier.verify_for(bearer_token(), audience_of(service))
    headers = {h: request.headers[h] for h in _FORWARDED_REQUEST_HEADERS if h in request.headers}
    headers[REQUEST_ID_HEADER] = g.request_id
    headers["X-Forwarded-For"] = request.remote_addr or ""
    headers["X-Forwarded-Proto"] = request.scheme
    headers["X-Forwarded-Host"] = request.host
    session: requests.Session = current_app.extensions["relais.upstream"]
    timeout = current_app.extensions["relais.settings"].upstream_timeout_seconds
    try:
        upstream = session.request(
            request.method,
            f"{base}/{path}",
            params=request.args.to_dict(flat=False),
            data=request.get_data() or None,
            headers=headers,
            timeout=(3.0, timeout),
            allow_redirects=False,
        )
    except requests.Timeout:
        raise Problem(f"The {service} service did not answer in time.", status=504) from None
    except requests.ConnectionError:
        raise Problem(f"The {service} service cannot be reached; try again shortly.", status=503,
                      headers={"Retry-After": "5"}) from None
    response = Response(upstream.content, status=upstream.status_code)
    for name, value in upstream.headers.items():
        lowered = name.lower()
        if lowered in _HOP_BY_HOP or lowered.startswith(INTERNAL_HEADER_PREFIX):
            continue
        response.headers[name] = value
    response.headers[REQUEST_ID_HEADER] = g.request_id
    return response
