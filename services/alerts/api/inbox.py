"""My alerts, one alert, and handling it: acknowledge, resolve, snooze."""

from __future__ import annotations

import marshmallow as ma
from flask import g

from services.alerts.api import schemas
from services.alerts.api.common import SECURITY, ctx, language, problems
from services.alerts.handlers import acting, reading
from shared.auth import require_scope
from shared.web.blueprint import Blueprint

blp = Blueprint("inbox", __name__, url_prefix="/alerts", description="My alerts, and handling them")


def alert_query(query: dict) -> reading.AlertQuery:
    return reading.AlertQuery(states=tuple(query["state"]), rules=tuple(query["rule"]),
                              cursor=query["cursor"], limit=query["limit"], language=language())


@blp.route("", methods=["GET"])
@require_scope("alerts:read")
@blp.arguments(schemas.AlertListQuery, location="query", unknown=ma.RAISE)
@blp.response(200, schemas.AlertPageOut)
@blp.doc(security=SECURITY)
@problems
def inbox(query):
    """The alerts that reach me (as référent, as care team once it reaches the care team, or
    escalated to me; for an organisation's system, its organisation's), newest first, only while
    my grant covers the person's alerts. Only alerts still asking for something are listed."""
    return reading.read_inbox(ctx(), g.principal, alert_query(query), g.request_id)


@blp.route("/<uuid:alert_id>", methods=["GET"])
@require_scope("alerts:read")
@blp.response(200, schemas.AlertOut)
@blp.doc(security=SECURITY)
@problems
def one(alert_id):
    """One alert, with how it was handled."""
    return reading.read_alert(ctx(), g.principal, str(alert_id), language(), g.request_id)


@blp.route("/<uuid:alert_id>/acknowledge", methods=["POST"])
@require_scope("alerts:manage")
@blp.arguments(schemas.AcknowledgeIn)
@blp.response(200, schemas.AlertOut)
@blp.doc(security=SECURITY)
@problems
def acknowledge(body, alert_id):
    """I take it on, with a coded reason (seen elsewhere, in an institution, declining contact,
    unreachable, moved away…) and, if I know it, when the person was last seen."""
    return acting.acknowledge(ctx(), g.principal, str(alert_id), reason=body["reason"],
                              last_seen_on=body["last_seen_on"], language=language(),
                              request_id=g.request_id)


@blp.route("/<uuid:alert_id>/resolve", methods=["POST"])
@require_scope("alerts:manage")
@blp.arguments(schemas.ResolveIn)
@blp.response(200, schemas.AlertOut)
@blp.doc(security=SECURITY)
@problems
def resolve(body, alert_id):
    """Close the alert by hand, with a coded reason. (Logging a contact closes it by itself.)"""
    return acting.resolve(ctx(), g.principal, str(alert_id), reason=body["reason"],
                          language=language(), request_id=g.request_id)


@blp.route("/<uuid:alert_id>/snooze", methods=["POST"])
@require_scope("alerts:manage")
@blp.arguments(schemas.SnoozeIn)
@blp.response(200, schemas.AlertOut)
@blp.doc(security=SECURITY)
@problems
def snooze(body, alert_id):
    """Ask again in some days (within the rule's limit of days and of snoozes)."""
    return acting.snooze(ctx(), g.principal, str(alert_id), days=body["days"], language=language(),
                         request_id=g.request_id)
