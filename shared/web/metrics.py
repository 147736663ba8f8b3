"""Prometheus metrics at GET /metrics, per process or, under gunicorn with several workers,
aggregated across workers (PROMETHEUS_MULTIPROC_DIR, set by the launcher)."""

from __future__ import annotations

import os

from flask import Flask, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "relais_http_requests_total",
    "HTTP requests answered",
    ["service", "method", "route", "status"],
)
LATENCY = Histogram(
    "relais_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

_service_name = "relais"


def install(app: Flask, service: str) -> None:
    global _service_name
    _service_name = service

    @app.get("/metrics")
    def metrics_endpoint():
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            body = generate_latest(registry)
        else:
            body = generate_latest()
        return Response(body, mimetype=CONTENT_TYPE_LATEST)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(_service_name, method, route, str(status)).inc()
    LATENCY.labels(_service_name, route).observe(seconds)
