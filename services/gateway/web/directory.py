"""Names the pages may show in place of codes: an organisation's name (not personal data), and
for a professional their organisation and profession — never their own name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class Directory:
    organisations: dict[str, str]
    workplaces: dict[str, tuple[str | None, str | None]]

    def organisation(self, code: str | None) -> str:
        return self.organisations.get(code or "", code or "")

    def workplace(self, subject: str | None) -> tuple[str, str | None]:
        """(organisation name, profession code) of a professional's account."""
        organisation, profession = self.workplaces.get(subject or "", (None, None))
        return self.organisation(organisation), profession


def look_up(organisations: Iterable[str | None] = (), subjects: Iterable[str | None] = ()) -> Directory:
    repository = current_app.extensions["relais.oauth"].identities()
    try:
        workplaces = repository.workplaces([s for s in subjects if s])
        codes = {c for c in organisations if c} | {o for o, _ in workplaces.values() if o}
        return Directory(repository.organisation_names(codes), workplaces)
    finally:
        repository.session.close()
