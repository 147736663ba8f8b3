"""The audit service's HTTP API."""

from __future__ import annotations

from flask import current_app, g
from flask_smorest import Blueprint

from services.audit import handlers
from services.audit.adapters.unit_of_work import AuditUnitOfWork
from services.audit.api.schemas import SearchOut, SearchQuery
from shared.auth import require_scope

blp = Blueprint("log", __name__, url_prefix="/events", description="The audit log")


@blp.route("", methods=["GET"])
@require_scope("audit:read")
@blp.arguments(SearchQuery, location="query")
@blp.response(200, SearchOut)
@blp.doc(security=[{"bearer": []}])
def search(query):
    """Search the audit log, newest first. The search is itself logged."""
    runtime = current_app.extensions["relais.runtime"]
    beneficiary = str(query["beneficiary_id"]) if query["beneficiary_id"] else None
    items = handlers.search(
        AuditUnitOfWork(runtime.sessions), g.principal, beneficiary, query["limit"], g.request_id
    )
    return {"items": items}
