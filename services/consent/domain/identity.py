"""What identifies a person, and the rule for a Belgian national register number (NISS)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date


class InvalidField(ValueError):
    """A command field breaks a rule of the domain; ``field`` names it for the 422 answer."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Identity:
    given_name: str | None = None
    family_name: str | None = None
    birth_date: date | None = None
    national_number: str | None = None

    def as_document(self) -> dict[str, str]:
        document = {k: v for k, v in asdict(self).items() if v is not None}
        if self.birth_date is not None:
            document["birth_date"] = self.birth_date.isoformat()
        return document

    @classmethod
    def from_document(cls, document: dict[str, str]) -> Identity:
        birth = document.get("birth_date")
        return cls(document.get("given_name"), document.get("family_name"),
                   date.fromisoformat(birth) if birth else None, document.get("national_number"))

    @property
    def empty(self) -> bool:
        return not any(asdict(self).values())


def normalise_national_number(value: str) -> str:
    """Eleven digits whose last two are the modulo-97 check (born before or from 2000)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 11 or len(value.strip()) > 20:
        raise InvalidField("identity.national_number", "must be the 11 digits of a national number")
    body, check = int(digits[:9]), int(digits[9:])
    if check not in (97 - body % 97, 97 - (2_000_000_000 + body) % 97):
        raise InvalidField("identity.national_number", "its check digits do not match")
    return digits
