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


def problems(view: Callable) -> Callable:
    """Domain errors answered the same way everywhere (a Flask view or a door's); never a 500
    for a refusal."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return view(*args, **kwargs)
        except (NotVisible, NotFoundHere):
            raise NotFound(NOT_FOUND) from None
        except Forbidden as exc:
            raise Problem(str(exc), status=403, slug="forbidden", title="Not allowed") from None
        except Rejected as exc:
            raise ValidationProblem(errors=[{"field": f, "message": m, "in": "json"}
                                            for f, m in exc.errors]) from None
        except BadCursor:
            raise ValidationProblem(errors=[{"field": "cursor", "message": "Not a cursor this service gave.",
                                             "in": "query"}]) from None

    return wrapper


def json_body(document: dict[str, Any]) -> bytes:
    """The answer of a read, serialised in one pass (orjson, whose aware datetimes read as
    ``isoformat`` writes them, microseconds included, as marshmallow would). The documented schema says the same
    thing (a test dumps through it and compares); going through it field by field would cost
    more than the read itself on a page of a hundred entries."""
    return orjson.dumps(document, default=plain_json)


def json_answer(document: dict[str, Any], status: int = 200) -> Response:
    return Response(json_body(document), status=status, mimetype="application/json")
