"""The record service's HTTP API."""

from __future__ import annotations

from flask import current_app, g
from flask_smorest import Blueprint

from services.record import handlers
from services.record.adapters.unit_of_work import RecordUnitOfWork
from services.record.api.schemas import ContactIn, EntryOut, TimelineOut, TimelineQuery
from services.record.domain.contacts import ContactRejected
from shared.auth import require_scope
from shared.web.problems import ValidationProblem

blp = Blueprint("journey", __name__, url_prefix="/beneficiaries", description="A person's journey")


def _uow() -> RecordUnitOfWork:
    runtime = current_app.extensions["relais.runtime"]
    return RecordUnitOfWork(runtime.sessions, runtime.outbox)


@blp.route("/<uuid:beneficiary_id>/contacts", methods=["POST"])
@require_scope("record:write")
@blp.arguments(ContactIn)
@blp.response(201, EntryOut)
@blp.doc(security=[{"bearer": []}])
def log_contact(body, beneficiary_id):
    """Log a contact (met, or an attempt without contact)."""
    command = handlers.LogContact(beneficiary_id=str(beneficiary_id), **body)
    try:
        contact = handlers.log_contact(_uow(), command, g.principal, g.request_id)
    except ContactRejected as exc:
        raise ValidationProblem(errors=[{"field": exc.field, "message": exc.message, "in": "json"}]) from None
    return {
        "id": contact.id,
        "kind": "contact",
        "category": "contacts",
        "occurred_at": contact.occurred_at,
        "recorded_at": contact.recorded_at,
        "author": {"organisation": contact.author.organisation, "profession": contact.author.profession},
        "modality": contact.modality,
        "outcome": contact.outcome,
        "duration_minutes": contact.duration_minutes,
    }


@blp.route("/<uuid:beneficiary_id>/timeline", methods=["GET"])
@require_scope("record:read")
@blp.arguments(TimelineQuery, location="query")
@blp.response(200, TimelineOut)
@blp.doc(security=[{"bearer": []}])
def timeline(query, beneficiary_id):
    """The person's journey, newest first."""
    items = handlers.read_timeline(_uow(), str(beneficiary_id), g.principal, g.request_id, query["limit"])
    return {"items": items}
