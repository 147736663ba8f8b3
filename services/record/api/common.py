"""What every record blueprint shares: the handler context, the reader's language, and one
translation of domain errors into problem+json."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import orjson
from flask import Response, current_app, request

from services.record.domain.entries import Rejected
from services.record.domain.views import BadCursor, plain_json
from services.record.handlers.common import Forbidden, NotFoundHere, NotVisible, RecordContext
from shared.vocabularies import pick_language
from shared.web.problems import NotFound, Problem, ValidationProblem

NOT_FOUND = "Check the address; nothing is published here."


def ctx() -> RecordContext:
    return current_app.extensions["relais.record"]


def language() -> str:
    return pick_language(request.headers.get("Accept-Language"))


_DOMAIN_ERRORS = (NotVisible, NotFoundHere, Forbidden, Rejected, BadCursor)


def _domain_problem(error: Exception) -> Problem:
    """A domain error as the problem it is answered with: "does not exist" and "not allowed to
    see" alike, never a 500 for a refusal."""
    if isinstance(error, NotVisible | NotFoundHere):
        return NotFound(NOT_FOUND)
    if isinstance(error, Forbidden):
        return Problem(str(error), status=403, slug="forbidden", title="Not allowed")
    if isinstance(error, Rejected):
        return ValidationProblem(errors=[{"field": f, "message": m, "in": "json"} for f, m in error.errors])
    assert isinstance(error, BadCursor)
    return ValidationProblem(errors=[{"field": "cursor", "message": "Not a cursor this service gave.",
                                      "in": "query"}])


def problems(view: Callable) -> Callable:
    """Domain errors answered the same way everywhere (a Flask view or a door's)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return view(*args, **kwargs)
        except _DOMAIN_ERRORS as error:
            raise _domain_problem(error) from None

    return wrapper


def json_body(document: dict[str, Any]) -> bytes:
    """The answer of a read, serialised in one pass (orjson, whose aware datetimes read as
    ``isoformat`` writes them, microseconds included, as marshmallow would). The documented schema says the same
    thing (a test dumps through it and compares); going through it field by field would cost
    more than the read itself on a page of a hundred entries."""
    return orjson.dumps(document, default=plain_json)


def json_answer(document: dict[str, Any], status: int = 200) -> Response:
    return Response(json_body(document), status=status, mimetype="application/json")
