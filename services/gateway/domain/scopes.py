"""The scopes of Relais, one per capability, and which scopes each role may ever hold."""

from __future__ import annotations

from collections.abc import Iterable

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

# The ceiling of each role of a person: a token never carries a scope outside it, whatever the
# client asks. Machine clients (role `system`) are bounded by the scopes they were registered
# with instead.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "professional": frozenset(
        {"record:read", "record:write", "consent:read", "consent:manage", "alerts:read", "alerts:manage"}
    ),
    "beneficiary": frozenset({"self"}),
    "close_one": frozenset({"record:read"}),
    "auditor": frozenset({"audit:read"}),
    "admin": frozenset({"admin", "audit:read"}),
}


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return [s for s in scopes if s not in SCOPES]


def scopes_beyond_role(role: str, scopes: Iterable[str]) -> list[str]:
    allowed = ROLE_SCOPES.get(role, frozenset())
    return [s for s in scopes if s not in allowed]


def within_role(role: str, scopes: Iterable[str]) -> list[str]:
    allowed = ROLE_SCOPES.get(role, frozenset())
    return [s for s in scopes if s in allowed]
