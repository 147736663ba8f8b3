"""Consent as every service sees it: the vocabulary, the profession × category policy, the pure
decision function, and the local projection of ``consent.*`` events that lets a service decide
without a network call. The consent service decides with the same function on the same shapes."""

from shared.consent.decision import (
    Actor,
    CategoryDecision,
    ConsentState,
    Decision,
    EmergencyTerms,
    ExclusionTerms,
    GrantTerms,
    Question,
    decide,
)
from shared.consent.policy import Policy, load_policy
from shared.consent.vocabulary import ACTIONS, CATEGORIES, PURPOSES

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "PURPOSES",
    "Actor",
    "CategoryDecision",
    "ConsentState",
    "Decision",
    "EmergencyTerms",
    "ExclusionTerms",
    "GrantTerms",
    "Policy",
    "Question",
    "decide",
    "load_policy",
]
