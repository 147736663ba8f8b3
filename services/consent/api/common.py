"""What every consent blueprint shares: the handler context and one translation of domain
errors into problem+json."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request

from services.consent.domain.grants import GrantVersion
from services.consent.domain.identity import InvalidField
from services.consent.domain.plain_language import describe, pick_language
from services.consent.handlers.common import ConsentContext, Forbidden, NotVisible, TooManyAttempts
from shared.web.problems import NotFound, Problem, ValidationProblem

NOT_FOUND = "Check the address; nothing is published here."


def ctx() -> ConsentContext:
    return current_app.extensions["relais.consent"]


def problems(view: Callable) -> Callable:
    """Answer domain errors the same way everywhere: never a 500 for a refusal."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return view(*args, **kwargs)
        except NotVisible:
            raise NotFound(NOT_FOUND) from None
        except Forbidden as exc:
            raise Problem(str(exc), status=403, slug="forbidden", title="Not allowed") from None
        except InvalidField as exc:
            raise ValidationProblem(errors=[{"field": exc.field, "message": exc.message,
                                             "in": "json"}]) from None
        except TooManyAttempts as exc:
            raise Problem(str(exc), status=429, headers={"Retry-After": "900"}) from None

    return wrapper


def grant_out(version: GrantVersion) -> dict[str, Any]:
    terms = version.terms
    return {
        "grant_id": terms.grant_id, "version": terms.version, "status": version.status,
        "grantee_kind": terms.grantee_kind, "grantee": terms.grantee,
        "categories": sorted(terms.categories), "purpose": terms.purpose,
        "actions": sorted(terms.actions), "valid_from": terms.valid_from,
        "valid_until": terms.valid_until, "referent": terms.referent,
        "transition_kind": version.transition_kind, "transition_days": version.transition_days,
        "powers": list(version.powers), "method": version.obtained.method,
        "witness": version.obtained.witness, "form_reference": version.obtained.form_reference,
        "recorded_at": version.recorded_at,
        "description": describe(terms, pick_language(request.headers.get("Accept-Language"))),
    }
