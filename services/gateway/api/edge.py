"""What every answer of the public door gets: the per-address rate limit, security headers and
CORS for the origins named in the configuration."""

from __future__ import annotations

import math

from flask import Flask, Response, current_app, request

from shared.web.problems import Problem, problem_response

_UNLIMITED = ("/healthz", "/readyz", "/metrics")
# The API answers JSON only; the sign-in and docs pages load nothing from elsewhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
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
        headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
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
