"""Codes of the APIs (categories, actions, outcomes, reasons, roles) in the page's language.
Profession labels come from the shared profession vocabulary, which carries all three."""

from __future__ import annotations

from flask_babel import gettext

from services.gateway.web.i18n import current_language
from shared.consent.vocabulary import professions


def N_(message: str) -> str:  # noqa: N802 - the name Babel's extractor looks for
    return message


CATEGORIES = {
    "identity": N_("Identity"),
    "contacts": N_("Contacts with services"),
    "steps": N_("Steps under way"),
    "episodes": N_("Stays"),
    "mental_health_episodes": N_("Mental-health stays"),
    "transitions": N_("Transitions (hospital, prison, street)"),
    "alerts": N_("Alerts"),
    "referent": N_("Référent"),
    "audit_log": N_("The access log"),
}
OUTCOMES = {"permit": N_("allowed"), "deny": N_("refused"), "error": N_("failed")}
PURPOSES = {"care_coordination": N_("coordinating your care"), "emergency": N_("an emergency"),
            "audit": N_("an audit")}
EMERGENCY_REASONS = {
    "life_threatening": N_("Life in danger"),
    "medical_emergency": N_("Medical emergency"),
    "missing_person": N_("Missing person"),
    "safeguarding": N_("Protecting you or someone else"),
}
ROLES = {"professional": N_("a professional"), "system": N_("a service's system"),
         "beneficiary": N_("you"), "close_one": N_("a close one"), "auditor": N_("an auditor"),
         "admin": N_("an administrator")}
GRANTEE_KINDS = {"organisation": N_("A service"), "professional": N_("A professional"),
                 "care_team": N_("A care team"), "close_one": N_("A close one")}
STATUSES = {"active": N_("active"), "revoked": N_("withdrawn"), "expired": N_("ended"),
            "superseded": N_("replaced")}
RECEIPT_KINDS = {"consent_given": N_("Access given"), "consent_withdrawn": N_("Access withdrawn"),
                 "consent_expired": N_("Access ended"), "exclusion_added": N_("Someone blocked")}
# The actions of the audit log, told to the person they concern.
ACTIONS = {
    "beneficiary.register": N_("registered your record"),
    "beneficiary.read": N_("looked at your record"),
    "identity.read": N_("looked at your identity"),
    "beneficiary.lookup": N_("looked for your record"),
    "grant.list": N_("looked at who can see your record"),
    "grant.history": N_("looked at the history of an access"),
    "grant.give": N_("gave an access"),
    "grant.revoke": N_("withdrew an access"),
    "exclusion.add": N_("blocked someone"),
    "emergency.open": N_("opened an emergency access"),
    "share_code.create": N_("made a share code"),
    "share_code.redeem": N_("used a share code"),
    "decision.read": N_("checked what they may see"),
    "decision.write": N_("checked what they may note"),
    "timeline.read": N_("read your journey"),
    "contact.log": N_("noted a contact"),
    "audit.search": N_("searched the access log"),
    "audit.read": N_("read the access log"),
    "audit.export": N_("exported the access log"),
}
OWN_ACTION_PREFIX = "self."


def label(table: dict[str, str], code: str | None) -> str:
    if not code:
        return ""
    message = table.get(code)
    return gettext(message) if message else code


def action_label(code: str | None) -> str:
    if code and code.startswith(OWN_ACTION_PREFIX):
        return gettext("you looked at your own record")
    return label(ACTIONS, code)


def profession_label(code: str | None) -> str:
    return professions().label(code, current_language()) if code else ""


def install(app) -> None:
    app.jinja_env.globals.update(
        category_label=lambda code: label(CATEGORIES, code),
        outcome_label=lambda code: label(OUTCOMES, code),
        purpose_label=lambda code: label(PURPOSES, code),
        reason_label=lambda code: label(EMERGENCY_REASONS, code),
        role_label=lambda code: label(ROLES, code),
        grantee_kind_label=lambda code: label(GRANTEE_KINDS, code),
        status_label=lambda code: label(STATUSES, code),
        receipt_label=lambda code: label(RECEIPT_KINDS, code),
        action_label=action_label,
        profession_label=profession_label,
    )
