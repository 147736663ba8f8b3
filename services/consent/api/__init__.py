"""The consent service's HTTP API."""

from __future__ import annotations

from flask import current_app, g
from flask_smorest import Blueprint

from services.consent import handlers
from services.consent.adapters.unit_of_work import ConsentUnitOfWork
from services.consent.api.schemas import BeneficiaryOut
from shared.auth import require_scope
from shared.web.problems import NotFound, Problem

blp = Blueprint("beneficiaries", __name__, url_prefix="/beneficiaries", description="Beneficiaries")


def _uow() -> ConsentUnitOfWork:
    runtime = current_app.extensions["relais.runtime"]
    return ConsentUnitOfWork(runtime.sessions, runtime.outbox)


@blp.route("", methods=["POST"])
@require_scope("consent:manage")
@blp.response(201, BeneficiaryOut)
@blp.doc(security=[{"bearer": []}])
def register():
    """Register a person who agreed to a shared record; returns their pseudonymous id."""
    try:
        return handlers.register_beneficiary(_uow(), g.principal, g.request_id)
    except PermissionError as exc:
        raise Problem(str(exc), status=403) from None


@blp.route("/<uuid:beneficiary_id>", methods=["GET"])
@require_scope("consent:read")
@blp.response(200, BeneficiaryOut)
@blp.doc(security=[{"bearer": []}])
def read(beneficiary_id):
    """A person's record status, for those allowed to know it exists."""
    try:
        return handlers.read_beneficiary(_uow(), str(beneficiary_id), g.principal, g.request_id)
    except handlers.NotVisible:
        raise NotFound("Check the address; nothing is published here.") from None
