"""The pure decision function: the same code decides in the consent service and in every
service's local projection, so both give the same answer for the same state.

Access to one category = no exclusion of the actor ∧ (an active grant to the actor for the
purpose, action and category ∧ the policy allows the actor's profession or role) — or, when no
grant applies, an open emergency access of the actor (never over an exclusion, still within the
policy). Everything else is denied, with one reason for "no such person" and "no grant", so a
decision never tells whether a person exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.consent.policy import Policy

PERMIT = "permit"
DENY = "deny"


@dataclass(frozen=True)
class Actor:
    subject: str
    role: str | None = None
    organisation: str | None = None
    profession: str | None = None
    teams: frozenset[str] = frozenset()


@dataclass(frozen=True)
class GrantTerms:
    grant_id: str
    version: int
    grantee_kind: str
    grantee: str
    categories: frozenset[str]
    purpose: str
    actions: frozenset[str]
    valid_from: datetime
    valid_until: datetime | None
    referent: bool = False

    def active_at(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)

    def names(self, actor: Actor) -> bool:
        kind = self.grantee_kind
        if kind == "organisation":
            return actor.organisation == self.grantee and actor.role in ("professional", "system")
        if kind == "professional":
            return actor.subject == self.grantee and actor.role == "professional"
        if kind == "care_team":
            return self.grantee in actor.teams and actor.role == "professional"
        if kind == "close_one":
            return actor.subject == self.grantee and actor.role == "close_one"
        return False


@dataclass(frozen=True)
class ExclusionTerms:
    exclusion_id: str
    kind: str  # professional | organisation
    target: str

    def hits(self, actor: Actor) -> bool:
        if self.kind == "professional":
            return actor.subject == self.target
        return actor.organisation is not None and actor.organisation == self.target


@dataclass(frozen=True)
class EmergencyTerms:
    access_id: str
    subject: str
    categories: frozenset[str]
    opened_at: datetime
    until: datetime

    def open_for(self, actor: Actor, at: datetime) -> bool:
        return actor.subject == self.subject and self.opened_at <= at < self.until


@dataclass(frozen=True)
class ConsentState:
    beneficiary_id: str
    grants: tuple[GrantTerms, ...] = ()
    exclusions: tuple[ExclusionTerms, ...] = ()
    emergencies: tuple[EmergencyTerms, ...] = ()
    epoch: int = 0


@dataclass(frozen=True)
class Question:
    beneficiary_id: str
    action: str
    categories: tuple[str, ...]
    purpose: str
    at: datetime


@dataclass(frozen=True)
class CategoryDecision:
    category: str
    outcome: str
    reason: str  # grant | emergency | exclusion | policy | no_grant
    grant_id: str | None = None
    rule: str | None = None

    @property
    def permitted(self) -> bool:
        return self.outcome == PERMIT


@dataclass(frozen=True)
class Decision:
    beneficiary_id: str
    action: str
    purpose: str
    policy_version: str
    epoch: int
    categories: tuple[CategoryDecision, ...] = field(default_factory=tuple)

    @property
    def permitted(self) -> frozenset[str]:
        return frozenset(c.category for c in self.categories if c.permitted)


def _policy_rule(policy: Policy, actor: Actor, grant: GrantTerms | None, action: str,
                 category: str) -> str | None:
    """The rule that lets this actor touch this category, or None."""
    if grant is not None and grant.referent and policy.allows("referent", "referent", action, category):
        return f"referent:{action}:{category}"
    if actor.role == "close_one":
        if policy.allows("role", "close_one", action, category):
            return f"role:close_one:{action}:{category}"
        return None
    if actor.profession and policy.allows("profession", actor.profession, action, category):
        return f"profession:{actor.profession}:{action}:{category}"
    return None


def _decide_category(state: ConsentState, actor: Actor, question: Question, policy: Policy,
                     category: str) -> CategoryDecision:
    for exclusion in state.exclusions:
        if exclusion.hits(actor):
            return CategoryDecision(category, DENY, "exclusion", rule=exclusion.exclusion_id)
    policy_blocked: str | None = None
    for grant in state.grants:
        if (
            grant.purpose == question.purpose
            and category in grant.categories
            and question.action in grant.actions
            and grant.active_at(question.at)
            and grant.names(actor)
        ):
            rule = _policy_rule(policy, actor, grant, question.action, category)
            if rule is not None:
                return CategoryDecision(category, PERMIT, "grant", grant.grant_id, rule)
            policy_blocked = grant.grant_id
    if question.purpose == "emergency" and question.action == "read":
        for emergency in state.emergencies:
            if category in emergency.categories and emergency.open_for(actor, question.at):
                rule = _policy_rule(policy, actor, None, "read", category)
                if rule is not None:
                    return CategoryDecision(category, PERMIT, "emergency", emergency.access_id, rule)
    if policy_blocked is not None:
        return CategoryDecision(category, DENY, "policy", policy_blocked,
                                f"profession:{actor.profession or actor.role}:{question.action}:{category}")
    return CategoryDecision(category, DENY, "no_grant")


def decide(state: ConsentState | None, actor: Actor, question: Question, policy: Policy) -> Decision:
    """Per category, permit or deny, with the reason and the policy version. ``state`` None (no
    such person, or erased) is answered exactly like a person without a grant for the actor."""
    known = state if state is not None else ConsentState(question.beneficiary_id)
    categories = tuple(
        _decide_category(known, actor, question, policy, category)
        for category in question.categories
    )
    # The epoch is shown only to someone who may see something: it would tell that a person exists.
    shown_epoch = known.epoch if any(c.permitted for c in categories) else 0
    return Decision(
        beneficiary_id=question.beneficiary_id,
        action=question.action,
        purpose=question.purpose,
        policy_version=policy.version,
        epoch=shown_epoch,
        categories=categories,
    )
