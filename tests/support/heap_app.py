"""A WSGI app that answers how many objects its process has frozen (shared/heap.py), for the
test that gunicorn, with Relais's settings, freezes a worker once its app is loaded."""

from __future__ import annotations

import gc


def app(environ, start_response):
    body = str(gc.get_freeze_count()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
