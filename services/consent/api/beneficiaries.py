"""Beneficiaries: registration with consent, identity, lookup by national number."""

from __future__ import annotations

import marshmallow as ma
from flask import g

from services.consent.api.common import ctx, problems
from services.consent.api.schemas import (
    BeneficiaryOut,
    IdentityOut,
    LookupIn,
    LookupOut,
    RegistrationIn,
    WaitQuery,
)
from services.consent.domain.identity import Identity
from services.consent.handlers import registration
from shared.auth import require_scope
from shared.web.blueprint import Blueprint

blp = Blueprint("beneficiaries", __name__, url_prefix="/beneficiaries", description="Beneficiaries")


@blp.route("", methods=["POST"])
@require_scope("consent:manage")
@blp.arguments(WaitQuery, location="query", unknown=ma.RAISE)
@blp.arguments(RegistrationIn, required=False)
@blp.response(201, BeneficiaryOut)
@blp.doc(security=[{"bearer": []}])
@problems
def register(query, body):
    """Register a person who agreed to a shared record; returns their pseudonymous id.

    The registering organisation receives the first grant (the categories given, or the policy's
    registration defaults, until valid_until or until withdrawn); the signed-in professional is
    its witness. Identity is optional: a person may stay anonymous."""
    body = body or {}
    identity = Identity(**body["identity"]) if body.get("identity") else None
    command = registration.Registration(
        identity=identity,
        categories=tuple(body["categories"]) if body.get("categories") else None,
        method=body.get("method", "in_person"), form_reference=body.get("form_reference"),
        valid_until=body.get("valid_until"),
    )
    done = registration.register_beneficiary(ctx(), g.principal, g.request_id, command,
                                             wait=query["wait"])
    person = done.beneficiary
    return {"id": person.id, "registered_at": person.registered_at,
            "registered_by_organisation": person.registered_by_organisation,
            "anonymous": person.anonymous, "grant_id": done.grant_id,
            "enforcement": done.enforcement.as_dict() if done.enforcement else None}


@blp.route("/<uuid:beneficiary_id>", methods=["GET"])
@require_scope("consent:read")
@blp.response(200, BeneficiaryOut)
@blp.doc(security=[{"bearer": []}])
@problems
def read(beneficiary_id):
    """A person's record status, for those allowed to know it exists."""
    return registration.read_beneficiary(ctx(), str(beneficiary_id), g.principal, g.request_id)


@blp.route("/<uuid:beneficiary_id>/identity", methods=["GET"])
@require_scope("consent:read")
@blp.response(200, IdentityOut)
@blp.doc(security=[{"bearer": []}])
@problems
def identity(beneficiary_id):
    """The person's identity, decrypted for an actor allowed to read the identity category."""
    return registration.read_identity(ctx(), str(beneficiary_id), g.principal, g.request_id)


@blp.route("/lookup", methods=["POST"])
@require_scope("consent:read")
@blp.arguments(LookupIn)
@blp.response(200, LookupOut)
@blp.doc(security=[{"bearer": []}])
@problems
def lookup(body):
    """Find a person by national number (through its keyed hash), if you hold a grant on them."""
    found = registration.find_by_national_number(ctx(), body["national_number"], g.principal,
                                                  g.request_id)
    return {"id": found}
