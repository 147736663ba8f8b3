"""Every message of the pages exists in French, Dutch and English; the compiled catalogues
(committed, so a fresh clone needs no build step) match their sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from services.gateway.web.i18n import LANGUAGES, TRANSLATIONS

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "services" / "gateway"


def _extracted() -> set[str]:
    with open(GATEWAY / "web" / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(GATEWAY), method_map, options_map, keywords=keywords):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalogue(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as source:
        return read_po(source, locale=language)


def test_the_pages_have_messages_to_translate():
    assert len(_extracted()) > 200
    assert "Who can see my record" in _extracted()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language):
    catalogue = _catalogue(language)
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert "fuzzy" not in message.flags, key
        assert all(s.strip() for s in strings), f"{language}: {key!r} has no translation"
        translated[key] = strings
    missing = _extracted() - set(translated)
    assert not missing, f"{language} lacks: {sorted(missing)[:10]}"
    problems = [(m.id, errors) for m, errors in catalogue.check()]
    assert not problems, problems  # placeholders such as %(num)d agree with the message


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language):
    def key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    source = {key(m.id): key(m.string) for m in _catalogue(language) if m.id}
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as compiled:
        built = {key(m.id): key(m.string) for m in read_mo(compiled) if m.id}
    assert built == source, "run scripts/translations to compile the catalogues"


def test_french_and_dutch_really_differ_from_english():
    english = {m.id: m.string for m in _catalogue("en") if m.id}
    for language in ("fr", "nl"):
        other = {m.id: m.string for m in _catalogue(language) if m.id}
        same = [k for k in english if other[k] == english[k]]
        assert len(same) < len(english) * 0.1, same[:10]  # codes and names only stay the same
