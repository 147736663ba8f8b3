"""Grants, their history, withdrawal, exclusions and care teams."""

from __future__ import annotations

from flask import g

from services.consent.api.common import ctx, grant_out, problems
from services.consent.api.schemas import (
    ExclusionIn,
    ExclusionOut,
    GrantIn,
    GrantListOut,
    GrantOut,
    RevocationOut,
    TeamMemberIn,
)
from services.consent.domain.grants import GrantRequest
from services.consent.handlers import grants
from shared.auth import require_scope
from shared.web.blueprint import Blueprint

blp = Blueprint("grants", __name__, url_prefix="/beneficiaries", description="Grants and exclusions")
teams = Blueprint("teams", __name__, url_prefix="/care-teams", description="Care teams")


def grant_request(body: dict) -> GrantRequest:
    return GrantRequest(
        grantee_kind=body["grantee_kind"], grantee=body["grantee"],
        categories=tuple(body["categories"]), purpose=body["purpose"],
        actions=tuple(sorted(set(body["actions"]))), valid_from=body.get("valid_from"),
        valid_until=body.get("valid_until"), transition_kind=body.get("transition_kind"),
        transition_days=body.get("transition_days"), referent=body["referent"],
        method=body["method"], form_reference=body.get("form_reference"),
        powers=tuple(body.get("powers") or ()),
    )


def revocation_status(enforcement) -> int:
    return 200 if enforcement.confirmed or enforcement.mode == "eventual" else 202


@blp.route("/<uuid:beneficiary_id>/grants", methods=["POST"])
@require_scope("consent:manage")
@blp.arguments(GrantIn)
@blp.response(201, GrantOut)
@blp.doc(security=[{"bearer": []}])
@problems
def give(body, beneficiary_id):
    """Record a grant the person gave (in person, by signed form, or themselves)."""
    version = grants.give_grant(ctx(), g.principal, str(beneficiary_id), grant_request(body),
                                g.request_id)
    return grant_out(version)


@blp.route("/<uuid:beneficiary_id>/grants", methods=["GET"])
@require_scope("consent:read")
@blp.response(200, GrantListOut)
@blp.doc(security=[{"bearer": []}])
@problems
def list_(beneficiary_id):
    """The latest version of every grant of the person, in plain words too."""
    found = grants.list_grants(ctx(), g.principal, str(beneficiary_id), g.request_id)
    return {"items": [grant_out(v) for v in found]}


@blp.route("/<uuid:beneficiary_id>/grants/<uuid:grant_id>/versions", methods=["GET"])
@require_scope("consent:read")
@blp.response(200, GrantListOut)
@blp.doc(security=[{"bearer": []}])
@problems
def history(beneficiary_id, grant_id):
    """Every version of one grant, oldest first (grants are never edited in place)."""
    found = grants.grant_history(ctx(), g.principal, str(beneficiary_id), str(grant_id), g.request_id)
    return {"items": [grant_out(v) for v in found]}


@blp.route("/<uuid:beneficiary_id>/grants/<uuid:grant_id>/revoke", methods=["POST"])
@require_scope("consent:manage")
@blp.response(200, RevocationOut)
@blp.alt_response(202, schema=RevocationOut, description="Withdrawn; not every projection confirmed yet")
@blp.doc(security=[{"bearer": []}])
@problems
def revoke(beneficiary_id, grant_id):
    """Withdraw a grant. In strict mode this answers once every projection enforces it."""
    version, enforcement = grants.revoke_grant(ctx(), g.principal, str(beneficiary_id),
                                               str(grant_id), g.request_id)
    body = {"grant": grant_out(version), "enforcement": enforcement.as_dict()}
    return body, revocation_status(enforcement)


@blp.route("/<uuid:beneficiary_id>/exclusions", methods=["POST"])
@require_scope("consent:manage")
@blp.arguments(ExclusionIn)
@blp.response(201, ExclusionOut)
@blp.doc(security=[{"bearer": []}])
@problems
def exclude(body, beneficiary_id):
    """Block a named professional or an organisation; it overrides everything, emergencies too."""
    exclusion_id, enforcement = grants.add_exclusion(ctx(), g.principal, str(beneficiary_id),
                                                     body["kind"], body["target"], g.request_id)
    return {"exclusion_id": exclusion_id, "enforcement": enforcement.as_dict()}


@blp.route("/<uuid:beneficiary_id>/exclusions/<uuid:exclusion_id>/lift", methods=["POST"])
@require_scope("consent:manage")
@blp.response(204)
@blp.doc(security=[{"bearer": []}])
@problems
def lift_exclusion(beneficiary_id, exclusion_id):
    """Lift a block, as the person asked (or their representative)."""
    grants.lift_exclusion(ctx(), g.principal, str(beneficiary_id), str(exclusion_id), g.request_id)
    return "", 204


@teams.route("/<uuid:team_id>/members", methods=["POST"])
@require_scope("consent:manage")
@teams.arguments(TeamMemberIn)
@teams.response(204)
@teams.doc(security=[{"bearer": []}])
@problems
def add_member(body, team_id):
    """Add a professional to a care team (a grant to the team then covers them)."""
    grants.add_team_member(ctx(), g.principal, str(team_id), body["subject"], g.request_id)
