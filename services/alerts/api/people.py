"""About one person: their current alerts, when they were last seen, the rules in force, and
the référent's own settings for them."""

from __future__ import annotations

import marshmallow as ma
from flask import g

from services.alerts.api import schemas
from services.alerts.api.common import SECURITY, ctx, problems
from services.alerts.api.inbox import alert_query
from services.alerts.domain.rules import RULES
from services.alerts.handlers import configuration, reading
from shared.auth import require_scope
from shared.web.blueprint import Blueprint
from shared.web.problems import NotFound

blp = Blueprint("people", __name__, url_prefix="/beneficiaries", description="About one person")


@blp.route("/<uuid:beneficiary_id>/alerts", methods=["GET"])
@require_scope("alerts:read")
@blp.arguments(schemas.AlertListQuery, location="query", unknown=ma.RAISE)
@blp.response(200, schemas.PersonAlertsOut)
@blp.doc(security=SECURITY)
@problems
def person_alerts(query, beneficiary_id):
    """The person's alerts still asking for something (never their history)."""
    return reading.read_person_alerts(ctx(), g.principal, str(beneficiary_id), alert_query(query),
                                      g.request_id)


@blp.route("/<uuid:beneficiary_id>/last-seen", methods=["GET"])
@require_scope("alerts:read")
@blp.response(200, schemas.LastSeenOut)
@blp.doc(security=SECURITY)
@problems
def last_seen(beneficiary_id):
    """When the person was last met anywhere in the network, and the last attempt."""
    return reading.read_last_seen(ctx(), g.principal, str(beneficiary_id), g.request_id)


@blp.route("/<uuid:beneficiary_id>/rules", methods=["GET"])
@require_scope("alerts:read")
@blp.response(200)
@blp.doc(security=SECURITY)
@problems
def rules(beneficiary_id):
    """The rules in force for the person, each parameter with where it comes from (default,
    organisation, person)."""
    return reading.read_rules(ctx(), g.principal, str(beneficiary_id), g.request_id)


def _rule(rule: str) -> str:
    if rule not in RULES:
        raise NotFound("No such rule.")
    return rule


@blp.route("/<uuid:beneficiary_id>/rules/<rule>", methods=["PUT"])
@require_scope("alerts:manage")
@blp.arguments(schemas.RuleOverrideIn)
@blp.response(200)
@blp.doc(security=SECURITY)
@problems
def set_rule(body, beneficiary_id, rule):
    """The person's référent, with the person's consent, sets the person's own clock (days,
    warning, short clock after a fragile exit) or turns a rule off for them."""
    return configuration.set_person_rule(ctx(), g.principal, str(beneficiary_id), _rule(rule), body,
                                         g.request_id)


@blp.route("/<uuid:beneficiary_id>/rules/<rule>", methods=["DELETE"])
@require_scope("alerts:manage")
@blp.response(200)
@blp.doc(security=SECURITY)
@problems
def clear_rule(beneficiary_id, rule):
    """Back to the organisation's (or the default) parameters."""
    return configuration.set_person_rule(ctx(), g.principal, str(beneficiary_id), _rule(rule), None,
                                         g.request_id)
