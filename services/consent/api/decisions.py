"""Decisions, the policy and the vocabularies."""

from __future__ import annotations

from flask import g

from services.consent.api.common import ctx, problems
from services.consent.api.schemas import DecisionBatchIn, DecisionBatchOut, DecisionIn, DecisionOut
from services.consent.handlers.decisions import DecisionRequest, decide_requests
from shared.auth import require_scope
from shared.consent.decision import Decision
from shared.consent.vocabulary import CATEGORIES, PURPOSES, professions
from shared.web.blueprint import Blueprint

blp = Blueprint("decisions", __name__, url_prefix="", description="Decisions and policy")


def _request(item: dict) -> DecisionRequest:
    return DecisionRequest(
        beneficiary_id=str(item["beneficiary_id"]), action=item["action"],
        categories=tuple(dict.fromkeys(item["categories"])), purpose=item["purpose"],
        actor_subject=(item.get("actor") or {}).get("subject"),
    )


def _out(decision: Decision) -> dict:
    return {
        "beneficiary_id": decision.beneficiary_id, "action": decision.action,
        "purpose": decision.purpose, "policy_version": decision.policy_version,
        "epoch": decision.epoch,
        "categories": [{"category": c.category, "decision": c.outcome, "reason": c.reason,
                        "grant_id": c.grant_id, "rule": c.rule} for c in decision.categories],
    }


@blp.route("/decisions", methods=["POST"])
@require_scope("consent:read")
@blp.arguments(DecisionIn)
@blp.response(200, DecisionOut)
@blp.doc(security=[{"bearer": []}])
@problems
def decide_one(body):
    """May the token's actor do this to these categories of this person, for this purpose?"""
    return _out(decide_requests(ctx(), g.principal, [_request(body)], g.request_id)[0])


@blp.route("/decisions/batch", methods=["POST"])
@require_scope("consent:read")
@blp.arguments(DecisionBatchIn)
@blp.response(200, DecisionBatchOut)
@blp.doc(security=[{"bearer": []}])
@problems
def decide_batch(body):
    """Up to 100 decisions in one call, each audited."""
    found = decide_requests(ctx(), g.principal, [_request(i) for i in body["items"]], g.request_id)
    return {"items": [_out(d) for d in found]}


@blp.route("/policy", methods=["GET"])
@blp.response(200)
def policy():
    """The profession × category policy in force, with its version, and the categories a
    registration grants when it names none."""
    current = ctx().policy
    rows: dict[str, dict[str, dict[str, list[str]]]] = {}
    for (kind, code, action), allowed in sorted(current.rules.items()):
        rows.setdefault(kind, {}).setdefault(code, {})[action] = sorted(allowed)
    return {"version": current.version, "rules": rows,
            "registration_defaults": list(current.registration_defaults)}


@blp.route("/vocabularies", methods=["GET"])
@blp.response(200)
def vocabularies():
    """Categories, purposes and professions (with French, Dutch and English labels)."""
    vocabulary = professions()
    return {
        "categories": list(CATEGORIES), "purposes": list(PURPOSES),
        "professions": {"version": vocabulary.version,
                        "items": [{"code": p.code, "labels": p.labels}
                                  for p in vocabulary.professions.values()]},
    }
