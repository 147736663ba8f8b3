"""Grants told in plain words, in French, Dutch or English."""

from __future__ import annotations

from shared.consent.decision import GrantTerms
from shared.vocabularies import pick_language

__all__ = ["describe", "pick_language"]

CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "identity": {"fr": "votre identité", "nl": "uw identiteit", "en": "your identity"},
    "contacts": {"fr": "vos contacts avec les services", "nl": "uw contacten met diensten", "en": "your contacts with services"},
    "steps": {"fr": "vos démarches", "nl": "uw stappen", "en": "your steps"},
    "episodes": {"fr": "vos séjours", "nl": "uw verblijven", "en": "your stays"},
    "mental_health_episodes": {"fr": "vos séjours en santé mentale", "nl": "uw verblijven in de geestelijke gezondheidszorg", "en": "your mental-health stays"},
    "transitions": {"fr": "vos sorties (hôpital, prison, rue)", "nl": "uw overgangen (ziekenhuis, gevangenis, straat)", "en": "your transitions (hospital, prison, street)"},
    "alerts": {"fr": "les alertes vous concernant", "nl": "de signalen over u", "en": "the alerts about you"},
    "referent": {"fr": "votre référent", "nl": "uw referent", "en": "your référent"},
}
GRANTEE_LABELS = {
    "organisation": {"fr": "Le service {g}", "nl": "De dienst {g}", "en": "The service {g}"},
    "professional": {"fr": "Le/la professionnel·le {g}", "nl": "De hulpverlener {g}", "en": "The professional {g}"},
    "care_team": {"fr": "L'équipe {g}", "nl": "Het team {g}", "en": "The team {g}"},
    "close_one": {"fr": "Votre proche {g}", "nl": "Uw naaste {g}", "en": "Your close one {g}"},
}
VERBS = {
    "read": {"fr": "peut voir", "nl": "kan zien", "en": "can see"},
    "write": {"fr": "peut voir et noter", "nl": "kan zien en noteren", "en": "can see and record"},
}
UNTIL = {"fr": "jusqu'au {d}", "nl": "tot {d}", "en": "until {d}"}
FOREVER = {"fr": "jusqu'à ce que vous le retiriez", "nl": "tot u het intrekt", "en": "until you withdraw it"}
AND = {"fr": "et", "nl": "en", "en": "and"}


def describe(terms: GrantTerms, language: str) -> str:
    labels = [CATEGORY_LABELS[c][language] for c in sorted(terms.categories) if c in CATEGORY_LABELS]
    listed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} {AND[language]} {labels[-1]}"
    who = GRANTEE_LABELS[terms.grantee_kind][language].format(g=terms.grantee)
    verb = VERBS["write" if "write" in terms.actions else "read"][language]
    when = (UNTIL[language].format(d=terms.valid_until.date().isoformat())
            if terms.valid_until else FOREVER[language])
    return f"{who} {verb} {listed} {when}."
