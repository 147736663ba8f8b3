"""What every answer of the public door gets: the per-address rate limit, security headers and
CORS for the origins named in the configuration."""

from __future__ import annotations

import math

from flask import Flask, Response, current_app, request

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


def install(app: Flask) -> None:
    @app.before_request
    def _limit_address():
        if request.path in _UNLIMITED:
            return None
        wait = current_app.extensions["relais.address_limiter"].hit(request.remote_addr or "unknown")
        if wait:
            return problem_response(
                Problem("Too many requests from this address; slow down.", status=429,
                        headers={"Retry-After": str(max(1, math.ceil(wait)))})
            )
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # Same-origin only: the CSRF check over HTTPS compares the referrer with this host.
        headers["Referrer-Policy"] = "same-origin"
        origin = request.headers.get("Origin")
        if origin and origin.rstrip("/") in current_app.extensions["relais.gateway_settings"].cors_origins:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = "X-Request-ID, Retry-After, WWW-Authenticate"
            if request.method == "OPTIONS":
                headers["Access-Control-Allow-Methods"] = CORS_METHODS
                headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
                headers["Access-Control-Max-Age"] = "600"
        headers.add("Vary", "Origin")
        return response
