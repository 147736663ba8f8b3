"""An organisation's settings: its rules, its coordinator, its webhooks, and the counts it may
see of its alerts (only over at least ten persons). ``admin``, or ``alerts:manage`` for one's
own organisation."""

from __future__ import annotations

import re

import marshmallow as ma
from flask import g

from services.alerts.api import schemas
from services.alerts.api.common import SECURITY, ctx, problems
from services.alerts.api.people import _rule
from services.alerts.handlers import configuration, webhooks
from shared.auth import require_scope
from shared.web.blueprint import Blueprint
from shared.web.problems import NotFound

blp = Blueprint("organisations", __name__, url_prefix="/organisations",
                description="An organisation's alert settings")
hooks = Blueprint("webhooks", __name__, url_prefix="/webhooks", description="Webhooks")
ORG = "<organisation>"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,119}$")


def _org(organisation: str) -> str:
    if not _CODE.match(organisation):
        raise NotFound("No such organisation.")
    return organisation


@blp.route(f"/{ORG}/rules", methods=["GET"])
@require_scope()
@blp.response(200)
@blp.doc(security=SECURITY)
@problems
def rules(organisation):
    """The organisation's overrides and the rules in force for its persons."""
    return configuration.organisation_rules(ctx(), g.principal, _org(organisation), g.request_id)


@blp.route(f"/{ORG}/rules/<rule>", methods=["PUT"])
@require_scope()
@blp.arguments(schemas.RuleOverrideIn)
@blp.response(200)
@blp.doc(security=SECURITY)
@problems
def set_rule(body, organisation, rule):
    """Set the organisation's parameters of one rule (its clock, how its alerts escalate)."""
    return configuration.set_organisation_rule(ctx(), g.principal, _org(organisation), _rule(rule), body,
                                               g.request_id)


@blp.route(f"/{ORG}/rules/<rule>", methods=["DELETE"])
@require_scope()
@blp.response(200)
@blp.doc(security=SECURITY)
@problems
def clear_rule(organisation, rule):
    return configuration.set_organisation_rule(ctx(), g.principal, _org(organisation), _rule(rule), None,
                                               g.request_id)


@blp.route(f"/{ORG}/coordinator", methods=["GET"])
@require_scope()
@blp.response(200)
@blp.doc(security=SECURITY)
@problems
def coordinator(organisation):
    return configuration.coordinator(ctx(), g.principal, _org(organisation), g.request_id)


@blp.route(f"/{ORG}/coordinator", methods=["PUT"])
@require_scope()
@blp.arguments(schemas.CoordinatorIn)
@blp.response(200)
@blp.doc(security=SECURITY)
@problems
def set_coordinator(body, organisation):
    """Who the organisation's alerts escalate to when nobody acknowledges them in time."""
    return configuration.set_coordinator(ctx(), g.principal, _org(organisation), body["coordinator"],
                                         g.request_id)


@blp.route(f"/{ORG}/statistics", methods=["GET"])
@require_scope()
@blp.arguments(schemas.StatisticsQuery, location="query", unknown=ma.RAISE)
@blp.response(200)
@blp.doc(security=SECURITY)
@problems
def statistics(query, organisation):
    """How many alerts, by rule and state, and how many raised lately: each figure only over at
    least ten persons (null otherwise). Never anything per person."""
    return configuration.statistics(ctx(), g.principal, _org(organisation), query["days"], g.request_id)


@blp.route(f"/{ORG}/webhooks", methods=["POST"])
@require_scope()
@blp.arguments(schemas.WebhookIn)
@blp.response(201, schemas.WebhookCreatedOut)
@blp.doc(security=SECURITY)
@problems
def register(body, organisation):
    """Send the organisation's alert events to its own system, signed; the secret is shown once."""
    return webhooks.register(ctx(), g.principal, _org(organisation), url=body["url"],
                             event_types=body["events"], profession=body["profession"],
                             request_id=g.request_id)


@blp.route(f"/{ORG}/webhooks", methods=["GET"])
@require_scope()
@blp.response(200, schemas.WebhooksOut)
@blp.doc(security=SECURITY)
@problems
def listing(organisation):
    return webhooks.listing(ctx(), g.principal, _org(organisation), g.request_id)


@hooks.route("/<uuid:webhook_id>", methods=["DELETE"])
@require_scope()
@hooks.response(204)
@hooks.doc(security=SECURITY)
@problems
def remove(webhook_id):
    """Stop the webhook; its pending deliveries are withheld."""
    webhooks.remove(ctx(), g.principal, str(webhook_id), g.request_id)
    return ""


@hooks.route("/<uuid:webhook_id>/deliveries", methods=["GET"])
@require_scope()
@hooks.arguments(schemas.DeliveriesQuery, location="query", unknown=ma.RAISE)
@hooks.response(200, schemas.DeliveriesOut)
@hooks.doc(security=SECURITY)
@problems
def deliveries(query, webhook_id):
    """Deliveries and their attempts; state=dead lists the dead letters."""
    return webhooks.deliveries(ctx(), g.principal, str(webhook_id), query["state"], query["limit"],
                               g.request_id)


@hooks.route("/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/retry", methods=["POST"])
@require_scope()
@hooks.response(200, schemas.DeliveryOut)
@hooks.doc(security=SECURITY)
@problems
def retry(webhook_id, delivery_id):
    """Send a dead (or withheld) delivery again, with a fresh set of attempts."""
    return webhooks.retry(ctx(), g.principal, str(webhook_id), str(delivery_id), g.request_id)
