"""The journey's rules without a database: protocol templates and life cycles."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from services.record.domain import steps, transitions
from services.record.domain.entries import Author, Entry, Rejected
from shared.vocabularies import load_vocabulary

VOCABULARY = load_vocabulary("journey")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
AUTHOR = Author("cm-1", "org-cpas", "case_manager")
SHIPPED = json.loads(resources.files("services.record").joinpath("data/protocols.json").read_text())


def test_templates_contribute_each_service_once_with_the_shortest_delay():
    templates = transitions.parse_templates(SHIPPED, VOCABULARY)
    fragile = {"housing": "none", "close_ones": "present", "income": "none", "health_follow_up": "yes"}
    proposed = {p.service_kind: p.due_days for p in templates.propose("exit_hospital", fragile)}
    # cpas_social_service is named by two templates (3 and 7 days): proposed once, at 3.
    assert proposed == {"general_practice": 7, "cpas_social_service": 3, "shelter": 1}
    assert templates.propose("exit_hospital", {**fragile, "housing": "stable", "income": "secured"}) == [
        transitions.ProposedActivation("general_practice", 7)]


@pytest.mark.parametrize("change, message", [
    (lambda t: t[0].update(transition="exit_moon"), "unknown transition"),
    (lambda t: t[0].update(when={"mood": ["low"]}), "unknown fragility flag"),
    (lambda t: t[0].update(when={"housing": ["castle"]}), "has no value"),
    (lambda t: t[0]["activate"][0].update(service_kind="wizard"), "unknown service kind"),
    (lambda t: t[0]["activate"][0].update(due_days=400), "between 0 and 365"),
])
def test_a_bad_protocol_file_stops_the_service_at_start(change, message):
    raw = copy.deepcopy(SHIPPED)
    change(raw["templates"])
    with pytest.raises(ValueError, match=message):
        transitions.parse_templates(raw, VOCABULARY)


def test_every_status_of_the_vocabulary_has_its_place_in_the_life_cycle():
    assert set(steps.LIFECYCLE) == set(VOCABULARY["step_status"].offered())
    assert set(transitions.ACTIVATION_LIFECYCLE) == set(VOCABULARY["activation_status"].offered())
    for status, nexts in steps.LIFECYCLE.items():
        assert nexts <= set(steps.LIFECYCLE), status


def test_a_step_change_names_every_broken_rule_at_once():
    with pytest.raises(Rejected) as caught:
        steps.change_status(VOCABULARY, "p1", AUTHOR, step_id="s1", step_kind="bank_account",
                            current_status="done", current_blocker=None, since=NOW,
                            status="blocked", blocker=None, occurred_at=NOW + timedelta(days=1), now=NOW)
    fields = [f for f, _ in caught.value.errors]
    assert fields == ["occurred_at", "status", "blocker"]


def test_an_entry_read_back_is_the_same_immutable_value_as_one_recorded():
    recorded = Entry(beneficiary_id="p-1", kind="contact", category="contacts", occurred_at=NOW,
                     author=AUTHOR, vocabulary_version="2026-12-01.1",
                     body={"modality": "phone", "outcome": "met"})
    stored = Entry.stored(
        beneficiary_id="p-1", kind="contact", category="contacts", occurred_at=NOW,
        author=Author.stored("cm-1", "org-cpas", "case_manager"), vocabulary_version="2026-12-01.1",
        body={"modality": "phone", "outcome": "met"}, thread_id=None, supersedes=None,
        id=recorded.id, recorded_at=recorded.recorded_at)
    assert stored == recorded and hash(stored.author) == hash(AUTHOR)
    assert dataclasses.asdict(stored) == dataclasses.asdict(recorded)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stored.kind = "step"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        stored.author.organisation = "elsewhere"  # type: ignore[misc]
