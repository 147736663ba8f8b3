"""What every answer of the public door gets: the per-address rate limit, security headers and
CORS for the origins named in the configuration. Flask's hooks apply them to its answers; the
API door (``proxy.ApiDoor``) applies the same functions to the answers it gives itself."""

from __future__ import annotations

import math
from collections.abc import Collection

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import Headers

from services.gateway.adapters.rate_limits import RateLimiter
from shared.web.problems import Problem, problem_response

_UNLIMITED = ("/healthz", "/readyz", "/metrics")
# The pages load nothing from elsewhere and run no inline script or style; a view may set a
# stricter or different policy itself (the sign-in page names its client's redirect origin, the
# API explorer its own needs).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
CORS_ALLOWED_HEADERS = "Authorization, Content-Type, Accept, Accept-Language, If-Match, If-None-Match"
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE"


class TooManyRequests(Problem):
    status = 429

    def __init__(self, wait: float, who: str) -> None:
        super().__init__(f"Too many requests from this {who}; slow down.",
                         headers={"Retry-After": str(max(1, math.ceil(wait)))})


def limit_address(limiter: RateLimiter, address: str | None) -> None:
    """Counts one request from ``address``; raises TooManyRequests past its limit."""
    wait = limiter.hit(address or "unknown")
    if wait:
        raise TooManyRequests(wait, "address")


def secure(headers: Headers, method: str, origin: str | None, cors_origins: Collection[str]) -> None:
    """The security headers, and CORS for an allowed ``origin``, on an answer's ``headers``."""
    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # Same-origin only: the CSRF check over HTTPS compares the referrer with this host.
    headers["Referrer-Policy"] = "same-origin"
    if origin and origin.rstrip("/") in cors_origins:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = "X-Request-ID, Retry-After, WWW-Authenticate"
        if method == "OPTIONS":
            headers["Access-Control-Allow-Methods"] = CORS_METHODS
            headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
            headers["Access-Control-Max-Age"] = "600"
    headers.add("Vary", "Origin")


def install(app: Flask) -> None:
    @app.before_request
    def _limit_address():
        if request.path in _UNLIMITED:
            return None
        try:
            limit_address(current_app.extensions["relais.address_limiter"], request.remote_addr)
        except TooManyRequests as problem:
            return problem_response(problem)
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        secure(response.headers, request.method, request.headers.get("Origin"),
               current_app.extensions["relais.gateway_settings"].cors_origins)
        return response
