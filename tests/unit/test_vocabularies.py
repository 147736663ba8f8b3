"""The vocabulary files: every code labelled in three languages, retired codes still read, and
the language chosen from Accept-Language."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from shared.vocabularies import LANGUAGES, load_vocabulary, parse_vocabulary, pick_language


def test_every_shipped_vocabulary_has_every_label_and_unique_codes():
    folder = resources.files("shared.vocabularies").joinpath("data")
    names = [p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")]
    assert "journey" in names
    for name in names:
        vocabulary = load_vocabulary(name)
        assert vocabulary.version
        for code_list in vocabulary.lists.values():
            for term in code_list:
                assert all(term.labels[language].strip() for language in LANGUAGES), (name, term.code)


def _raw(**changes):
    raw = {"name": "t", "version": "1", "vocabularies": {"colour": {"codes": [
        {"code": "red", "labels": {"fr": "rouge", "nl": "rood", "en": "red"}},
        {"code": "mauve", "labels": {"fr": "mauve", "nl": "mauve", "en": "mauve"}, "retired": True},
    ]}}}
    raw["vocabularies"]["colour"]["codes"].extend(changes.get("extra", []))
    return raw


def test_a_missing_label_or_a_repeated_code_stops_the_load():
    with pytest.raises(ValueError, match="lacks labels"):
        parse_vocabulary(_raw(extra=[{"code": "blue", "labels": {"fr": "bleu", "en": "blue"}}]))
    with pytest.raises(ValueError, match="twice"):
        parse_vocabulary(_raw(extra=[{"code": "red", "labels": {"fr": "r", "nl": "r", "en": "r"}}]))


def test_a_retired_code_is_refused_for_new_entries_but_keeps_its_label():
    colours = parse_vocabulary(_raw())["colour"]
    assert "red" in colours and "mauve" not in colours
    assert colours.offered() == ["red"]
    assert colours.label("mauve", "nl") == "mauve"
    assert colours.label("unknown", "fr") == "unknown"


@pytest.mark.parametrize("header, language", [
    (None, "fr"), ("", "fr"), ("de-DE,de;q=0.9", "fr"), ("nl-BE,nl;q=0.9,fr;q=0.8", "nl"),
    ("fr;q=0.5,en;q=0.9", "en"), ("en-GB", "en"), ("nl;q=0,fr;q=0.1", "fr"), ("*", "fr"),
    ("en;q=bogus,nl", "nl"),
])
def test_the_language_comes_from_accept_language(header, language):
    assert pick_language(header) == language


def test_the_journey_vocabulary_is_what_the_record_service_relies_on():
    journey = load_vocabulary("journey")
    assert journey["episode_type"].term("psychiatric_stay").get("category") == "mental_health_episodes"
    assert journey["episode_type"].term("incarceration").get("institution") is True
    assert journey["contact_outcome"].term("attempt").get("seen") is False
    assert "incarceration" in journey["transition_kind"].term("exit_prison").get("closes")
    json.dumps(journey.as_document("nl"))  # serialisable as the API gives it
