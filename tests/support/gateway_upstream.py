"""A real HTTP server standing in for a service behind the gateway: it answers every request
with what it received (method, path, query, headers, body), and can be told to send back a
header of the internal namespace, to check that the gateway drops it; and a raw server for the
services that fail."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
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
def _serving(serve: Callable[[], None], port: int, stop: Callable[[], None]) -> Iterator[str]:
    """``serve`` on a thread of its own for the length of the block; ``stop`` ends it."""
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop()
        thread.join(timeout=10)


@contextmanager
def echo_server() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _echo, threaded=True)
    with _serving(server.serve_forever, server.server_port, server.shutdown) as url:
        yield url


@contextmanager
def raw_server(answer: bytes | None, *, wait: float = 0.0) -> Iterator[str]:
    """A server that reads one request, then sends ``answer`` as it is (and closes), or, for
    None, keeps the connection open without a word for ``wait`` seconds: a service that
    answers what is not HTTP, or not at all."""
    stopped = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def serve() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                if answer is None:
                    stopped.wait(wait)
                else:
                    connection.sendall(answer)

        with _serving(serve, listener.getsockname()[1], stopped.set) as url:
            yield url
