"""Emergency access, share codes and the receipts' public key."""

from __future__ import annotations

import marshmallow as ma
from flask import g

from services.consent.api.common import ctx, grant_out, problems
from services.consent.api.grants import revocation_status
from services.consent.api.schemas import (
    ClosedOut,
    EmergencyIn,
    EmergencyOut,
    RedeemedOut,
    RedeemIn,
    ShareCodeIn,
    ShareCodeOut,
    WaitQuery,
)
from services.consent.handlers import emergency, share_codes
from shared.auth import require_scope
from shared.web.blueprint import Blueprint

blp = Blueprint("access", __name__, url_prefix="", description="Emergency access and share codes")


@blp.route("/beneficiaries/<uuid:beneficiary_id>/emergency-access", methods=["POST"])
@require_scope("consent:read")
@blp.arguments(EmergencyIn)
@blp.response(201, EmergencyOut)
@blp.doc(security=[{"bearer": []}])
@problems
def open_emergency(body, beneficiary_id):
    """Break the glass: a reason code, a few hours, the categories needed. Audited, announced."""
    access = emergency.open_emergency(ctx(), g.principal, str(beneficiary_id), body["reason_code"],
                                      tuple(body["categories"]), body["hours"], g.request_id)
    return {"access_id": access.access_id, "categories": sorted(access.categories),
            "opened_at": access.opened_at, "until": access.until}


@blp.route("/beneficiaries/<uuid:beneficiary_id>/emergency-access/<uuid:access_id>/close", methods=["POST"])
@require_scope("consent:read")
@blp.response(200, ClosedOut)
@blp.doc(security=[{"bearer": []}])
@problems
def close_emergency(beneficiary_id, access_id):
    """End my emergency access before its time, once the emergency is over."""
    enforcement = emergency.close_emergency(ctx(), g.principal, str(beneficiary_id), str(access_id),
                                            g.request_id)
    return {"access_id": str(access_id), "enforcement": enforcement.as_dict()}, revocation_status(enforcement)


@blp.route("/beneficiaries/<uuid:beneficiary_id>/share-codes", methods=["POST"])
@require_scope("consent:manage")
@blp.arguments(ShareCodeIn)
@blp.response(201, ShareCodeOut)
@blp.doc(security=[{"bearer": []}])
@problems
def create_code(body, beneficiary_id):
    """A one-time code, with the person present, that gives a new professional the chosen grant."""
    code, expires = share_codes.create_share_code(
        ctx(), g.principal, str(beneficiary_id), tuple(body["categories"]), tuple(body["actions"]),
        body["days"], body["grantee_kind"], g.request_id)
    return {"code": code, "expires_at": expires}


@blp.route("/share-codes/redeem", methods=["POST"])
@require_scope("consent:manage")
@blp.arguments(WaitQuery, location="query", unknown=ma.RAISE)
@blp.arguments(RedeemIn)
@blp.response(201, RedeemedOut)
@blp.doc(security=[{"bearer": []}])
@problems
def redeem(query, body):
    """Redeem a share code: one use, minutes to live, wrong attempts limited."""
    grant, enforcement = share_codes.redeem_share_code(ctx(), g.principal, body["code"], g.request_id,
                                                       wait=query["wait"])
    return {"beneficiary_id": grant.beneficiary_id, "grant": grant_out(grant),
            "enforcement": enforcement.as_dict() if enforcement else None}


@blp.route("/receipts/keys", methods=["GET"])
@blp.response(200)
def receipt_keys():
    """The public key(s) that sign consent receipts (JWKS), to verify a receipt offline."""
    return ctx().signer.public_jwks()
