"""The professionals' blueprint and what its pages share: who may open them, the answer when a
person is not there (the same whether they do not exist or are not shared with the reader),
and the person's pseudonymous id as it travels in addresses."""

from __future__ import annotations

from flask import Blueprint, g, request, url_for
from flask_babel import gettext

from services.gateway.web import errors
from services.gateway.web.errors import error_page
from services.gateway.web.service_calls import ServiceError

bp = Blueprint("work", __name__, url_prefix="/work")
PROFESSIONALS = ("professional", "close_one")
errors.install_on(bp)


def person_not_found():
    return error_page(404, gettext("Person not found"),
                      gettext("This person is not found, or their record is not shared with you. "
                              "Check with the person or their référent, then look again from your caseload."),
                      action="/work", action_label=gettext("Back to my caseload"))


def _service_error(error: ServiceError):
    if error.status == 404 and "beneficiary_id" in (request.view_args or {}):
        return person_not_found()
    if error.status == 403 and "beneficiary_id" in (request.view_args or {}):
        return error_page(403, gettext("Not allowed"),
                          gettext("What this person shared with you does not cover this. Nothing was "
                                  "changed. Ask the person or their référent if it should."),
                          action=url_for("work.person", beneficiary_id=request.view_args["beneficiary_id"]),
                          action_label=gettext("Back to the person's page"))
    return errors.service_error_page(error)


bp.register_error_handler(ServiceError, _service_error)


def can_write() -> bool:
    return "record:write" in (g.user.get("scope") or [])
