"""What every alerts blueprint shares: the handler context, the reader's language, and one
translation of domain errors into problem+json."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request

from services.alerts.domain.alerts import Invalid, NotNow
from services.alerts.domain.rules import OverrideRejected
from services.alerts.handlers.common import AlertsContext, Forbidden, NotVisible
from services.alerts.handlers.views import BadCursor
from services.alerts.handlers.webhooks import WebhookRejected
from shared.vocabularies import pick_language
from shared.web.problems import NotFound, Problem, ValidationProblem

NOT_FOUND = "Check the address; nothing is published here."
SECURITY = [{"bearer": []}]


def ctx() -> AlertsContext:
    return current_app.extensions["relais.alerts"]


def language() -> str:
    return pick_language(request.headers.get("Accept-Language"))


def problems(view: Callable) -> Callable:
    """Domain errors answered the same way everywhere; never a 500 for a refusal."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return view(*args, **kwargs)
        except NotVisible:
            raise NotFound(NOT_FOUND) from None
        except Forbidden as exc:
            raise Problem(str(exc), status=403, slug="forbidden", title="Not allowed") from None
        except NotNow as exc:
            raise Problem(str(exc), status=409, slug="conflict",
                          title="Not possible in the alert's present state") from None
        except (Invalid, OverrideRejected, WebhookRejected) as exc:
            raise ValidationProblem(errors=[{"field": f, "message": m, "in": "json"}
                                            for f, m in exc.errors]) from None
        except BadCursor:
            raise ValidationProblem(errors=[{"field": "cursor", "message": "Not a cursor this service gave.",
                                             "in": "query"}]) from None

    return wrapper
