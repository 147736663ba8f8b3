"""The scopes of Relais, one per capability."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "record:read": "Read the journeys one may see",
    "record:write": "Log contacts, steps, episodes and transitions",
    "consent:read": "Read consent and record status",
    "consent:manage": "Register persons and manage their consent",
    "alerts:read": "Read one's alerts",
    "alerts:manage": "Acknowledge, resolve and snooze alerts",
    "audit:read": "Search the audit log",
    "self": "A person's own record",
    "admin": "Administration",
}


def unknown_scopes(scopes: list[str]) -> list[str]:
    return [s for s in scopes if s not in SCOPES]
