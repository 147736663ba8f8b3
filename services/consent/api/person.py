"""The person's own view: scope ``self``, the ``beneficiary`` claim names the person."""

from __future__ import annotations

from flask import g

from services.consent.api.common import ctx, grant_out, problems
from services.consent.api.grants import grant_request, revocation_status
from services.consent.api.schemas import (
    ClosedOut,
    EmergencyListOut,
    ErasureOut,
    ExclusionIn,
    ExclusionListOut,
    ExclusionOut,
    GrantIn,
    GrantListOut,
    GrantOut,
    ReceiptListOut,
    ReceiptOut,
    RevocationOut,
    ShareCodeIn,
    ShareCodeOut,
    StatusOut,
)
from services.consent.handlers import emergency, grants, person, share_codes
from services.consent.handlers.common import NotVisible
from shared.auth import require_scope
from shared.web.blueprint import Blueprint

blp = Blueprint("me", __name__, url_prefix="/me", description="My record, my consent")


@blp.route("", methods=["GET"])
@require_scope("self")
@blp.response(200, StatusOut)
@problems
def status():
    """My record's status."""
    return person.status(ctx(), g.principal, g.request_id)


@blp.route("/grants", methods=["GET"])
@require_scope("self")
@blp.response(200, GrantListOut)
@problems
def my_grants():
    """Every grant, in plain words (French, Dutch or English from Accept-Language)."""
    found = grants.list_grants(ctx(), g.principal, person.own_id(g.principal), g.request_id)
    return {"items": [grant_out(v) for v in found]}


@blp.route("/reach", methods=["GET"])
@require_scope("self")
@blp.response(200)
@problems
def my_reach():
    """Who can see me right now: my grants joined with the profession × category policy."""
    from flask import request

    from services.consent.domain.plain_language import pick_language

    language = pick_language(request.headers.get("Accept-Language"))
    return {"items": person.reach(ctx(), g.principal, language, g.request_id)}


@blp.route("/grants", methods=["POST"])
@require_scope("self")
@blp.arguments(GrantIn)
@blp.response(201, GrantOut)
@problems
def give(body):
    """Give a grant myself."""
    body["method"] = "self_service"
    version = grants.give_grant(ctx(), g.principal, person.own_id(g.principal),
                                grant_request(body), g.request_id)
    return grant_out(version)


@blp.route("/grants/<uuid:grant_id>/revoke", methods=["POST"])
@require_scope("self")
@blp.response(200, RevocationOut)
@problems
def withdraw(grant_id):
    """Withdraw a grant, at once."""
    version, enforcement = grants.revoke_grant(ctx(), g.principal, person.own_id(g.principal),
                                               str(grant_id), g.request_id)
    return {"grant": grant_out(version), "enforcement": enforcement.as_dict()}, \
        revocation_status(enforcement)


@blp.route("/exclusions", methods=["POST"])
@require_scope("self")
@blp.arguments(ExclusionIn)
@blp.response(201, ExclusionOut)
@problems
def block(body):
    """Block a professional or an organisation, even in an emergency."""
    exclusion_id, enforcement = grants.add_exclusion(ctx(), g.principal, person.own_id(g.principal),
                                                     body["kind"], body["target"], g.request_id)
    return {"exclusion_id": exclusion_id, "enforcement": enforcement.as_dict()}


@blp.route("/exclusions", methods=["GET"])
@require_scope("self")
@blp.response(200, ExclusionListOut)
@problems
def my_exclusions():
    """Whom I blocked."""
    return {"items": person.exclusions(ctx(), g.principal, g.request_id)}


@blp.route("/exclusions/<uuid:exclusion_id>/lift", methods=["POST"])
@require_scope("self")
@blp.response(204)
@problems
def unblock(exclusion_id):
    """Lift a block I set."""
    grants.lift_exclusion(ctx(), g.principal, person.own_id(g.principal), str(exclusion_id), g.request_id)
    return "", 204


@blp.route("/emergencies/<uuid:access_id>/close", methods=["POST"])
@require_scope("self")
@blp.response(200, ClosedOut)
@problems
def close_emergency_on_me(access_id):
    """End an emergency access opened on my record, before its time."""
    enforcement = emergency.close_emergency(ctx(), g.principal, person.own_id(g.principal),
                                            str(access_id), g.request_id)
    return {"access_id": str(access_id), "enforcement": enforcement.as_dict()}, revocation_status(enforcement)


@blp.route("/emergencies", methods=["GET"])
@require_scope("self")
@blp.response(200, EmergencyListOut)
@problems
def my_emergencies():
    """The emergency accesses opened on my record: who, why, what, until when."""
    return {"items": person.emergencies(ctx(), g.principal, g.request_id)}


@blp.route("/share-codes", methods=["POST"])
@require_scope("self")
@blp.arguments(ShareCodeIn)
@blp.response(201, ShareCodeOut)
@problems
def share(body):
    """A one-time code to give to a new professional."""
    code, expires = share_codes.create_share_code(
        ctx(), g.principal, person.own_id(g.principal), tuple(body["categories"]),
        tuple(body["actions"]), body["days"], body["grantee_kind"], g.request_id)
    return {"code": code, "expires_at": expires}


@blp.route("/receipts", methods=["GET"])
@require_scope("self")
@blp.response(200, ReceiptListOut)
@problems
def my_receipts():
    """My signed consent receipts."""
    return {"items": person.receipts(ctx(), g.principal, g.request_id)}


@blp.route("/receipts/<uuid:receipt_id>", methods=["GET"])
@require_scope("self")
@blp.response(200, ReceiptOut)
@problems
def my_receipt(receipt_id):
    """One signed receipt, to download and verify offline."""
    for receipt in person.receipts(ctx(), g.principal, g.request_id):
        if receipt["id"] == str(receipt_id):
            return receipt
    raise NotVisible(str(receipt_id))


@blp.route("/export", methods=["GET"])
@require_scope("self")
@blp.response(200)
@problems
def export():
    """Everything held about me, as JSON."""
    return person.export(ctx(), g.principal, g.request_id)


@blp.route("/erasure", methods=["POST"])
@require_scope("self")
@blp.response(200, ErasureOut)
@problems
def erasure():
    """Erase my identity and destroy my key; every service is told to shred what it holds."""
    return person.erase(ctx(), g.principal, g.request_id)
