"""The door: a service's busiest reads answered from the WSGI environ, before Flask's request
cycle.

Flask's request cycle (the request context, the before- and after-request hooks, the response
object) and the decorators around a view cost a read more than some of its own work: a
quarter of record's time under the timeline benchmark (docs/benchmarks.md). ``Door`` is WSGI
middleware in front of the Flask app. It matches a request with the app's own URL map, so a
route has one address and one set of converters; a ``GET`` without a body, to an endpoint the
service gave a door view for, is answered by that view. Everything else goes on to Flask:
other endpoints and methods (``HEAD`` and ``OPTIONS`` included), bodies, paths the router
would redirect or refuse.

A door view takes a ``DoorCall`` and returns the status, its own headers and the body. The door
keeps what the app factory's hooks give every other answer, through the same functions: the
request id (``begin_request``), the ``X-Request-ID`` and ``nosniff`` headers, problem+json for
a ``Problem`` or a bare, logged 500 for anything else (``problem_parts``, ``unexpected``), and
the metrics and log line under the route's name, never its path (``answered``). What a view
shares with its Flask twin (its scope check, its arguments, its handler) it calls through the
functions the twin uses: ``shared.auth.authorize``, ``parse_query`` below and the service's own."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
from flask import Flask
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, UnprocessableEntity
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from shared.web.app_factory import (
    REQUEST_ID_HEADER,
    answered,
    begin_request,
    end_request,
    unexpected,
)
from shared.web.problems import Problem, problem_from_http_exception, problem_parts

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class DoorCall:
    """One request the door answers: the URL's values as the route's converters made them, the
    request id, and the environ for the rest."""

    environ: dict[str, Any]
    args: dict[str, Any]
    request_id: str
    _query: MultiDict | None = field(default=None, repr=False)

    def header(self, name: str) -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), "")

    @property
    def query(self) -> MultiDict:
        """The query string as Flask's ``request.args`` reads it."""
        if self._query is None:
            self._query = Request(self.environ, populate_request=False, shallow=True).args
        return self._query


Answer = tuple[int, Mapping[str, str], bytes]
DoorView = Callable[[DoorCall], Answer]


def parse_query(schema: ma.Schema, query: MultiDict) -> dict[str, Any]:
    """The query loaded as a view's ``@blp.arguments(schema, location="query",
    unknown=RAISE)`` loads it, refused with the same 422 problem."""
    try:
        return schema.load(MultiDictProxy(query, schema), unknown=ma.RAISE)
    except ma.ValidationError as error:
        refusal = UnprocessableEntity()
        refusal.data = {"messages": {"query": error.messages}}  # type: ignore[attr-defined]
        raise problem_from_http_exception(refusal) from None


class Door:
    """WSGI middleware in front of a Flask app (``next_app``, its ``wsgi_app``): the endpoints
    in ``views`` answered without Flask's request cycle, the rest passed on."""

    def __init__(self, app: Flask, next_app: WSGIApp, views: Mapping[str, DoorView], *,
                 trust_request_id: bool = True) -> None:
        if app.url_map.host_matching or app.subdomain_matching:
            raise ValueError("the door matches paths only")
        self.adapter = app.url_map.bind("localhost")
        self.next_app = next_app
        self.views = dict(views)
        self.trust_request_id = trust_request_id
        rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
        unknown = sorted(set(self.views) - set(rules))
        if unknown:
            raise ValueError(f"no route for the door's endpoints {unknown}")
        self.rules = {endpoint: rules[endpoint] for endpoint in self.views}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        taken = self._takes(environ)
        if taken is None:
            return self.next_app(environ, start_response)
        endpoint, args = taken
        started = time.perf_counter()
        request_id = begin_request(environ.get("HTTP_X_REQUEST_ID", ""), self.trust_request_id)
        try:
            try:
                status, own, body = self.views[endpoint](DoorCall(environ, args, request_id))
            except Problem as problem:
                status, own, body = problem_parts(problem, request_id)
            except Exception as error:  # noqa: BLE001 - answered as a bare 500, logged with its trace
                status, own, body = problem_parts(unexpected(error), request_id)
            headers = {**own, "Content-Length": str(len(body)), REQUEST_ID_HEADER: request_id}
            headers.setdefault("X-Content-Type-Options", "nosniff")
            answered("GET", self.rules[endpoint], status, time.perf_counter() - started)
            start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}",
                           list(headers.items()))
            return [body]
        finally:
            end_request()

    def _takes(self, environ: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """The endpoint and the URL's values when the door answers this request itself."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("CONTENT_LENGTH") not in (None, "", "0") \
                or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        try:
            # The path as the router reads it (the server's bytes as UTF-8), matched by one
            # adapter for every request: the services match no host or subdomain.
            path = environ.get("PATH_INFO", "").encode("latin-1").decode(errors="replace")
            endpoint, args = self.adapter.match(path, "GET")
        except (HTTPException, UnicodeEncodeError):  # not found, not allowed, a redirect, or
            return None  # not what a WSGI server gives: Flask answers it
        if endpoint not in self.views:
            return None
        return endpoint, args


def install_door(app: Flask, views: Mapping[str, DoorView]) -> None:
    """Put a ``Door`` for ``views`` in front of a service's app, trusting the caller's request id
    as its hooks do: every request goes through it, the test client's too."""
    app.wsgi_app = Door(app, app.wsgi_app, views,  # type: ignore[method-assign]
                        trust_request_id=app.extensions["relais.trust_request_id"])
