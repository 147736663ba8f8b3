"""Controlled vocabularies: versioned data files of codes with French, Dutch and English labels.

Services accept only codes listed here, store the code and the version of the file they were
checked against, and answer with the code always and its label in the language the client asked
for. Pages and clients list the codes from the API instead of hard-coding them. A code is never
removed from a file: when it stops being offered it is marked ``"retired"`` and keeps its labels,
so entries recorded with it still read.

A file holds several named lists::

    {"name": "journey", "version": "2026-12-01.1",
     "vocabularies": {"contact_outcome": {"codes": [
         {"code": "met", "labels": {"fr": "...", "nl": "...", "en": "..."}, "seen": true}]}}}

Keys other than ``code``, ``labels`` and ``retired`` are attributes a service may use (a stall
interval, the consent category an item falls under, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("fr", "nl", "en")
DEFAULT_LANGUAGE = "fr"


class UnknownCode(LookupError):
    pass


@dataclass(frozen=True)
class Term:
    code: str
    labels: Mapping[str, str]
    retired: bool = False
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels["en"]

    def get(self, attribute: str, default: Any = None) -> Any:
        return self.attributes.get(attribute, default)


@dataclass(frozen=True)
class CodeList:
    name: str
    terms: Mapping[str, Term]

    def __contains__(self, code: object) -> bool:
        """Whether ``code`` may be used for a new entry (listed and not retired)."""
        term = self.terms.get(code) if isinstance(code, str) else None
        return term is not None and not term.retired

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms.values())

    def offered(self) -> list[str]:
        return [t.code for t in self.terms.values() if not t.retired]

    def term(self, code: str) -> Term:
        try:
            return self.terms[code]
        except KeyError:
            raise UnknownCode(f"{code!r} is not a code of {self.name}") from None

    def label(self, code: str, language: str) -> str:
        term = self.terms.get(code)
        return code if term is None else term.label(language)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per loaded file
class Vocabulary:
    name: str
    version: str
    lists: Mapping[str, CodeList]

    def __getitem__(self, name: str) -> CodeList:
        return self.lists[name]

    def as_document(self, language: str | None = None) -> dict[str, Any]:
        """Every list with its codes; labels in ``language``, or all three when None."""
        out: dict[str, Any] = {}
        for name, codes in self.lists.items():
            items = []
            for term in codes:
                item: dict[str, Any] = {"code": term.code, **dict(term.attributes)}
                if language is None:
                    item["labels"] = dict(term.labels)
                else:
                    item["label"] = term.label(language)
                if term.retired:
                    item["retired"] = True
                items.append(item)
            out[name] = items
        return {"name": self.name, "version": self.version, "lists": out}


def parse_vocabulary(raw: Mapping[str, Any]) -> Vocabulary:
    lists: dict[str, CodeList] = {}
    for list_name, body in raw["vocabularies"].items():
        terms: dict[str, Term] = {}
        for item in body["codes"]:
            code = item["code"]
            if code in terms:
                raise ValueError(f"{raw['name']}.{list_name}: code {code!r} appears twice")
            labels = dict(item["labels"])
            missing = set(LANGUAGES) - {k for k, v in labels.items() if v}
            if missing:
                raise ValueError(f"{raw['name']}.{list_name}.{code} lacks labels {sorted(missing)}")
            attributes = {k: v for k, v in item.items() if k not in ("code", "labels", "retired")}
            terms[code] = Term(code, labels, bool(item.get("retired")), attributes)
        lists[list_name] = CodeList(list_name, terms)
    return Vocabulary(str(raw["name"]), str(raw["version"]), lists)


@lru_cache(maxsize=8)
def load_vocabulary(name: str, path: str | None = None) -> Vocabulary:
    """The vocabulary file ``name`` shipped in ``shared/vocabularies/data``, or the file at
    ``path``. Loaded once per process."""
    if path:
        text = Path(path).read_text("utf-8")
    else:
        text = resources.files("shared.vocabularies").joinpath(f"data/{name}.json").read_text("utf-8")
    vocabulary = parse_vocabulary(json.loads(text))
    if vocabulary.name != name:
        raise ValueError(f"the file of vocabulary {name!r} names itself {vocabulary.name!r}")
    return vocabulary


def pick_language(accept_language: str | None) -> str:
    """The best of fr, nl, en in an Accept-Language header (quality values honoured, ties in
    the header's order); French when none of them is asked for."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        pieces = [p.strip() for p in part.split(";")]
        code = pieces[0].lower()[:2]
        if code not in LANGUAGES:
            continue
        quality = 1.0
        for parameter in pieces[1:]:
            if parameter.startswith("q="):
                try:
                    quality = float(parameter[2:])
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        candidate = (-quality, position, code)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else DEFAULT_LANGUAGE
