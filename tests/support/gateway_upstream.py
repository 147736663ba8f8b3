"""A real HTTP server standing in for a service behind the gateway: it answers every request
with what it received (method, path, query, headers, body), and can be told to send back a
header of the internal namespace, to check that the gateway drops it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@Request.application
def _echo(request: Request) -> Response:
    if request.path.endswith("/slow"):
        time.sleep(2)  # a service that hangs longer than the gateway waits
    body = {
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode(),
        "headers": dict(request.headers.items()),
        "body": request.get_data(as_text=True),
    }
    response = Response(json.dumps(body), status=200, mimetype="application/json")
    response.headers["X-Relais-Internal"] = "secret-detail"
    response.headers["X-Service"] = "echo"
    return response


@contextmanager
def echo_server() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _echo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
