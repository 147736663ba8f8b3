"""The alerts service's HTTP API."""

from __future__ import annotations

from flask import current_app, g
from flask_smorest import Blueprint

from services.alerts import handlers
from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.api.schemas import LastSeenOut
from shared.auth import require_scope

blp = Blueprint("last_seen", __name__, url_prefix="/beneficiaries", description="Last seen")


def _uow() -> AlertsUnitOfWork:
    runtime = current_app.extensions["relais.runtime"]
    return AlertsUnitOfWork(runtime.sessions, runtime.outbox)


@blp.route("/<uuid:beneficiary_id>/last-seen", methods=["GET"])
@require_scope("alerts:read")
@blp.response(200, LastSeenOut)
@blp.doc(security=[{"bearer": []}])
def last_seen(beneficiary_id):
    """When the person was last met anywhere in the network, and the last attempt."""
    return handlers.read_last_seen(_uow(), str(beneficiary_id), g.principal, g.request_id)
