"""Decisions: per category permit or deny, with the reason and the policy version. Every
decision, permit or deny, writes its audit event in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from services.consent.handlers.common import SERVICE, ConsentContext, Forbidden, actor_of
from shared.audit_trail import Access, record_access
from shared.auth import Principal
from shared.consent.decision import Decision, Question, decide


@dataclass(frozen=True)
class DecisionRequest:
    beneficiary_id: str
    action: str
    categories: tuple[str, ...]
    purpose: str
    actor_subject: str | None = None


def decide_requests(ctx: ConsentContext, principal: Principal, requests: list[DecisionRequest],
                    request_id: str | None) -> list[Decision]:
    """The token's actor only: asking on behalf of someone else is refused."""
    for item in requests:
        if item.actor_subject is not None and item.actor_subject != principal.subject:
            raise Forbidden("a decision is made for the token's own actor only")
    now = ctx.clock()
    results: list[Decision] = []
    with ctx.uow() as uow:
        actor = actor_of(principal, uow.teams_of(principal.subject))
        for item in requests:
            state = uow.consent_state(item.beneficiary_id)
            decision = decide(state, actor, Question(item.beneficiary_id, item.action,
                                                     item.categories, item.purpose, now), ctx.policy)
            permitted = [c for c in decision.categories if c.permitted]
            reasons = sorted({c.reason for c in decision.categories})
            record_access(uow, principal, Access(
                action=f"decision.{item.action}", crude="R" if item.action == "read" else "U",
                beneficiary_id=item.beneficiary_id, categories=item.categories,
                purpose=item.purpose, outcome="permit" if permitted else "deny",
                reason=",".join(reasons)), service=SERVICE, request_id=request_id)
            results.append(decision)
        uow.commit()
    return results
