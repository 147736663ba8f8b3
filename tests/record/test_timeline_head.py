"""The head of the timeline (a read model kept by every write) answers the first page exactly
as the entries do, for every reader and language; it is sealed, follows corrections and voids,
and when it cannot answer for sure the read goes to the entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.record.adapters.repository import JourneyRepository
from services.record.adapters.sealing import open_head
from services.record.domain import timeline_head
from services.record.domain.views import Reader
from shared import crypto
from shared.consent.vocabulary import CATEGORIES

from .conftest import PSYCHOLOGIST

FRAGILE = {"housing": "none", "close_ones": "limited", "income": "pending", "health_follow_up": "no"}


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def post(record, path, body, headers):
    response = record.client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def small_head(monkeypatch):
    """A head of six entries, so that a short journey already overflows it."""
    monkeypatch.setattr(timeline_head, "HEAD_SIZE", 6)


def _journey(record, person, cm) -> None:
    """Every kind of entry, two authors (one whose profession the mental-health category
    protects), entries recorded out of time order, a correction, voids."""
    record.grant(person, grantee_kind="organisation", grantee="org-ssm",
                 categories=["contacts", "mental_health_episodes", "episodes", "steps"],
                 actions=["read", "write"])
    psy = record.as_("psy-1", **PSYCHOLOGIST)
    base = f"/beneficiaries/{person}"
    first = post(record, f"{base}/contacts", {"occurred_at": ago(days=9), "modality": "phone", "outcome": "met"}, cm)
    step = post(record, f"{base}/steps", {"step_kind": "social_income"}, cm)
    post(record, f"{base}/episodes", {"episode_type": "psychiatric_stay", "started_at": ago(days=8)}, psy)
    post(record, f"{base}/contacts", {"occurred_at": ago(days=7), "modality": "in_person", "outcome": "met",
                                      "duration_minutes": 40}, psy)
    moved = post(record, f"{base}/steps/{step['data']['step_id']}/status", {"status": "in_progress"}, cm)
    post(record, f"{base}/transitions", {"transition_kind": "exit_hospital", "occurred_at": ago(days=3),
                                         "fragility": FRAGILE}, cm)
    # Recorded now, happened long ago: older than everything a short head holds.
    post(record, f"{base}/contacts", {"occurred_at": ago(days=40), "modality": "home_visit", "outcome": "attempt"}, cm)
    post(record, f"{base}/entries/{first['id']}/corrections", {"modality": "video"}, cm)
    post(record, f"{base}/entries/{moved['id']}/void", {"reason": "did_not_happen"}, cm)
    for days in (2, 1):
        post(record, f"{base}/contacts", {"occurred_at": ago(days=days), "modality": "street_outreach",
                                          "outcome": "met"}, cm)
    gone = post(record, f"{base}/contacts", {"occurred_at": ago(hours=5), "modality": "phone", "outcome": "met"}, cm)
    post(record, f"{base}/entries/{gone['id']}/void", {"reason": "wrong_person"}, cm)
    # Two more from long ago, once a void has made room in a short head: neither is among the
    # newest entries, so neither may come into it.
    for days in (20, 25):
        post(record, f"{base}/contacts", {"occurred_at": ago(days=days), "modality": "phone",
                                          "outcome": "attempt"}, cm)


def _answers(record, person, cm) -> dict:
    psy = record.as_("psy-1", **PSYCHOLOGIST)
    me = record.as_("bea", role="beneficiary", beneficiary=person, scopes="self")
    found = {}
    for who, headers, path in (("cm", cm, f"/beneficiaries/{person}/timeline"),
                               ("psy", psy, f"/beneficiaries/{person}/timeline"),
                               ("own", me, "/me/timeline")):
        for language in ("fr", "nl", "en"):
            for query in ("", "?limit=1", "?limit=3", "?limit=4", "?limit=5", "?category=contacts&limit=2"):
                response = record.client.get(path + query, headers={**headers, "Accept-Language": language})
                assert response.status_code == 200, response.get_json()
                found[who, language, query] = response.get_json()
                found[who, language, query, "bytes"] = response.data  # the same to the byte
    return found


def _drop_heads(record) -> None:
    with record.engine.begin() as connection:
        connection.execute(text("UPDATE people SET timeline_head = NULL"))


@pytest.mark.parametrize("size", ["small", "large"])
def test_the_head_answers_as_the_entries_do(record, person, cm, monkeypatch, size):
    if size == "small":
        monkeypatch.setattr(timeline_head, "HEAD_SIZE", 6)
    _journey(record, person, cm)
    with_head = _answers(record, person, cm)
    _drop_heads(record)
    from_entries = _answers(record, person, cm)
    assert with_head == from_entries
    assert with_head["cm", "fr", ""]["items"] and with_head["own", "en", "?limit=3"]["next_cursor"]
    assert any(i["author"]["masked"] for i in with_head["cm", "nl", ""]["items"])
    assert not any(i["author"]["masked"] for i in with_head["psy", "nl", ""]["items"])


def _stored_head(record, person):
    with Session(record.engine) as session:
        sealed = session.execute(text("SELECT timeline_head FROM people WHERE beneficiary_id = :p"),
                                 {"p": person}).scalar_one()
        key = record.app.extensions["relais.record"].keys.find(session, person)
        newest = JourneyRepository(session).timeline(
            person, key, categories=CATEGORIES, kinds=None, since=None, until=None, after=None,
            limit=timeline_head.HEAD_SIZE, newest_first=True, history=False)
    return sealed, key, newest


def test_each_write_keeps_the_head_equal_to_one_made_from_the_entries(record, person, cm, small_head):
    _journey(record, person, cm)
    sealed, key, newest = _stored_head(record, person)
    vocabulary = record.app.extensions["relais.record"].vocabulary
    kept = timeline_head.decode(open_head(key, person, sealed))
    made = timeline_head.build(vocabulary, newest.entries, complete=newest.next_after is None)
    assert kept.complete is made.complete is False
    everyone = Reader(frozenset(CATEGORIES), "nl", own_record=True)
    # The kept head is the newest N current entries, N at least half its size (voids take
    # entries out of it and nothing older comes in): the same as the made one, as far as it goes.
    assert timeline_head.HEAD_SIZE // 2 <= len(kept.items) <= len(made.items)
    limit = len(kept.items) - 1
    kept_page = timeline_head.first_page(kept, vocabulary, CATEGORIES, everyone, limit)
    made_page = timeline_head.first_page(made, vocabulary, CATEGORIES, everyone, limit)
    assert kept_page is not None and kept_page == made_page
    # Every entry it holds, the last included, is one of the newest, in their order.
    assert [i[timeline_head.ID] for i in kept.items] == [e.id for e in newest.entries[:len(kept.items)]]


def test_the_first_page_is_read_from_the_head_alone(record, person, cm, monkeypatch):
    _journey(record, person, cm)
    calls = []
    real = JourneyRepository.timeline

    def counted(self, *args, **kwargs):
        calls.append(kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(JourneyRepository, "timeline", counted)
    first = record.client.get(f"/beneficiaries/{person}/timeline?limit=3", headers=cm).get_json()
    assert len(first["items"]) == 3 and calls == []
    record.client.get(f"/beneficiaries/{person}/timeline?cursor={first['next_cursor']}", headers=cm)
    record.client.get(f"/beneficiaries/{person}/timeline?kind=contact", headers=cm)
    assert len(calls) == 2  # the next page and a filtered read go to the entries


def test_a_head_that_cannot_answer_for_sure_sends_the_read_to_the_entries(record, person, cm, small_head):
    _journey(record, person, cm)
    sealed, key, newest = _stored_head(record, person)
    vocabulary = record.app.extensions["relais.record"].vocabulary
    head = timeline_head.decode(open_head(key, person, sealed))
    assert not head.complete and len(head.items) <= timeline_head.HEAD_SIZE
    reader = Reader(frozenset(CATEGORIES), "fr")
    # More than the head holds, or only a category the head has too few of.
    assert timeline_head.first_page(head, vocabulary, CATEGORIES, reader, timeline_head.HEAD_SIZE) is None
    assert timeline_head.first_page(head, vocabulary, ["mental_health_episodes"], reader, 2) is None
    # Labels of another vocabulary version are not given.
    head.vocabulary_version = "1999-01-01.1"
    assert timeline_head.first_page(head, vocabulary, CATEGORIES, reader, 1) is None
    # And the answer is the same as ever.
    answer = record.client.get(f"/beneficiaries/{person}/timeline?limit=50", headers=cm).get_json()
    assert len(answer["items"]) > timeline_head.HEAD_SIZE and answer["next_cursor"] is None


def test_the_head_is_sealed_and_goes_with_the_persons_key(record, person, cm):
    _journey(record, person, cm)
    sealed, key, _ = _stored_head(record, person)
    assert b"street_outreach" not in sealed and b"org-cpas" not in sealed
    with pytest.raises(crypto.SealBroken):
        open_head(key, "someone-else", sealed)  # bound to its person
    me = record.consent.as_("bea", role="beneficiary", beneficiary=person, scopes="self")
    assert record.consent.client.post("/me/erasure", headers=me).status_code in (200, 202)
    record.sync()
    with record.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM people WHERE beneficiary_id = :p"),
                                  {"p": person}).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM person_keys WHERE beneficiary_id = :p"),
                                  {"p": person}).scalar_one() == 0


def _assert_next_write_makes_it_again(record, person, cm):
    """After a write, the stored head opens and holds the newest entries."""
    post(record, f"/beneficiaries/{person}/contacts", {"occurred_at": ago(minutes=5), "modality": "phone",
                                                       "outcome": "met"}, cm)
    sealed, key, newest = _stored_head(record, person)
    head = timeline_head.decode(open_head(key, person, sealed))
    assert head is not None and [i[timeline_head.ID] for i in head.items] == [e.id for e in newest.entries]


def test_a_head_that_does_not_open_is_read_past_and_made_again(record, person, cm):
    _journey(record, person, cm)
    expected = record.client.get(f"/beneficiaries/{person}/timeline", headers=cm).get_json()
    with record.engine.begin() as connection:  # as if sealed under another key
        connection.execute(text("UPDATE people SET timeline_head = :junk"), {"junk": b"\x00" * 64})
    answer = record.client.get(f"/beneficiaries/{person}/timeline", headers=cm)
    assert answer.status_code == 200 and answer.get_json() == expected
    _assert_next_write_makes_it_again(record, person, cm)


def test_a_head_of_an_earlier_format_is_read_past_and_made_again(record, person, cm):
    """Heads written by an earlier version (zlib, format 2; zstd, formats 2 and 3)
    are not this code's: the read goes to the entries, the next write makes the head again."""
    import zlib

    import zstandard

    from services.record.adapters.sealing import seal_head

    _journey(record, person, cm)
    expected = record.client.get(f"/beneficiaries/{person}/timeline", headers=cm).get_json()
    _, key, _ = _stored_head(record, person)
    format_3 = b'{"format":3,"vocabulary_version":"2026-12-01.1","complete":true,"items":[],"labels":{}}\n'
    for earlier in (zlib.compress(b'{"format":2,"items":[]}'), zstandard.compress(b'{"format":2}\n'),
                    zstandard.compress(format_3)):
        assert timeline_head.decode(earlier) is None
        with record.engine.begin() as connection:
            connection.execute(text("UPDATE people SET timeline_head = :head WHERE beneficiary_id = :p"),
                               {"head": seal_head(key, person, earlier), "p": person})
        answer = record.client.get(f"/beneficiaries/{person}/timeline", headers=cm)
        assert answer.status_code == 200 and answer.get_json() == expected
    _assert_next_write_makes_it_again(record, person, cm)


def test_a_head_keeps_what_its_columns_hold_through_its_stored_form():
    """Ids of unlike lengths, an author without organisation or profession, a protected one,
    times with and without microseconds: what goes in comes out of the stored form."""
    from dataclasses import replace

    from services.record.domain.contacts import new_contact
    from services.record.domain.entries import Author
    from shared.vocabularies import load_vocabulary

    vocabulary = load_vocabulary("journey")
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    authors = [Author("a", "cpas-ixelles", "social_worker"), Author("b", None, None),
               Author("c", "ssm-nord", PSYCHOLOGIST["profession"])]
    entries = [
        replace(new_contact(vocabulary, "p", authors[i % 3],
                            occurred_at=now - timedelta(hours=i, microseconds=i % 2), modality="phone",
                            outcome="met", duration_minutes=None, now=now), id=entry_id)
        for i, entry_id in enumerate(["e-1", "a-much-longer-entry-id-than-the-others", "e-333", "e-4"])
    ]
    made = timeline_head.build(vocabulary, entries, complete=True)
    head = timeline_head.decode(made.encode())
    assert head is not None and head.items == made.items
    assert [item[timeline_head.ID] for item in head.items] == [entry.id for entry in entries]
    assert [(item[timeline_head.ORGANISATION], item[timeline_head.PROFESSION]) for item in head.items] == [
        (entry.author.organisation, entry.author.profession) for entry in entries]
    assert [item[timeline_head.OCCURRED_AT] for item in head.items] == [e.occurred_at.isoformat() for e in entries]
    assert [head.find(entry.id) for entry in entries] == [0, 1, 2, 3]
    assert head.find("e-33") is None and head.find("no such entry, longer than any id held") is None
    everyone = Reader(frozenset(CATEGORIES), "en", own_record=False)
    page = timeline_head.first_page(head, vocabulary, CATEGORIES, everyone, 2, author_of="e-333")
    assert page is not None and page.ids == ["e-1", "a-much-longer-entry-id-than-the-others"]
    assert page.next_after == (entries[1].occurred_at, entries[1].id)
    assert page.author == ("ssm-nord", PSYCHOLOGIST["profession"], True)
    shown = [orjson.loads(item) for item in page.items]
    assert [item["id"] for item in shown] == page.ids and shown[1]["author"]["organisation"] is None
