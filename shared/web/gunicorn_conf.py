"""gunicorn settings for every Relais service (``gunicorn -c python:shared.web.gunicorn_conf``).

The service is named by RELAIS_SERVICE; its address and sizes come from the same settings as
everything else."""

from __future__ import annotations

import os

from shared.config import load_settings

_settings = load_settings(os.environ.get("RELAIS_SERVICE", "gateway"))

bind = [f"{_settings.host}:{_settings.port}"]
workers = _settings.web_workers
threads = _settings.web_threads
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
keepalive = 5
# No periodic worker recycling: with one worker per service it would drop requests.
max_requests = 0
accesslog = None  # the app logs each request as JSON, with its request id
errorlog = "-"
loglevel = _settings.log_level.lower()
proc_name = f"relais-{_settings.service}"
# Headers and request line limits: bodies are limited by the app itself.
limit_request_line = 8190
limit_request_fields = 100


def post_worker_init(worker):
    """The worker has loaded the app: what it made to get here is frozen (shared/heap.py)."""
    from shared.heap import settle

    settle()


def child_exit(server, worker):  # pragma: no cover - called by gunicorn
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
