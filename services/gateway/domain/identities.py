"""Who may sign in: people with a role, and the rules their accounts must follow."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

PERSON_ROLES = ("professional", "beneficiary", "close_one", "auditor", "admin")
# Roles that see many people's data: a second factor is mandatory.
SECOND_FACTOR_ROLES = frozenset({"auditor", "admin"})
_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,59}$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{2,119}$")
MIN_PASSWORD_LENGTH = 12


class IdentityError(ValueError):
    """An account or organisation that breaks a rule; the message says which."""


@dataclass(frozen=True)
class User:
    user_id: str
    username: str
    role: str
    password_hash: str = field(repr=False)
    organisation: str | None = None
    profession: str | None = None
    beneficiary: str | None = None
    totp_secret: str | None = field(default=None, repr=False)

    def get_user_id(self) -> str:  # what Authlib asks of a resource owner
        return self.user_id

    @property
    def needs_second_factor(self) -> bool:
        return self.totp_secret is not None or self.role in SECOND_FACTOR_ROLES


def check_code(kind: str, code: str) -> str:
    if not _CODE.match(code):
        raise IdentityError(f"{kind} code {code!r}: use 2-60 lowercase letters, digits, '_', '.' or '-'")
    return code


def check_new_user(
    username: str,
    role: str,
    password: str,
    *,
    organisation: str | None,
    profession: str | None,
    beneficiary: str | None,
    totp: bool,
) -> None:
    if not _USERNAME.match(username):
        raise IdentityError("username: 3-120 letters, digits or . _ @ + -")
    if role not in PERSON_ROLES:
        raise IdentityError(f"role must be one of {', '.join(PERSON_ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise IdentityError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if role == "professional" and not (organisation and profession):
        raise IdentityError("a professional needs an organisation and a profession code")
    if profession is not None:
        check_code("profession", profession)
    if role == "beneficiary":
        if not beneficiary:
            raise IdentityError("a beneficiary account needs the person's pseudonymous id (--beneficiary)")
        try:
            uuid.UUID(beneficiary)
        except ValueError:
            raise IdentityError("the beneficiary id must be the pseudonymous UUID given by consent") from None
    elif beneficiary:
        raise IdentityError("only a beneficiary account is linked to a beneficiary id")
    if role in SECOND_FACTOR_ROLES and not totp:
        raise IdentityError(f"a {role} must have a second factor (--totp)")
