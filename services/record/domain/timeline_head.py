"""The head of a person's timeline: their newest current entries, each already as the timeline
shows it, kept beside their journey so that the read everyone makes first (the first page,
newest first, no filter) opens one sealed value instead of a hundred rows.

What it holds, newest first (by when it happened, then id, as the timeline orders them): up to
``HEAD_SIZE`` of the person's current entries (neither voided nor superseded, no void entry),
each as ``views.show`` gives it to a reader who may see everything, with its labels in every
language (each distinct set once) and whether its author's profession is one that the
mental-health category protects. The head is always the newest N current entries for some N
(``complete`` when that is all of them); a write keeps it so (``merge``) or makes it again from
the entries (``build``). A read takes from it only what the reader may see: entries of their
categories only, authors masked as ``views.show`` masks them, labels in their language. When
the head cannot answer for sure (a reader with few categories, a page longer than it, labels of
another vocabulary version), the read goes to the entries, which give the same answer.

It is personal data like the entries: the record service seals it under the person's data key,
so shredding the key shreds it too (adapters/sealing.py)."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
import zstandard

from services.record.domain.entries import Entry
from services.record.domain.views import (
    PROTECTED,
    Reader,
    author_is_sensitive,
    labels_of,
    plain_json,
    show,
)
from shared.vocabularies import LANGUAGES, Vocabulary

HEAD_SIZE = 200
FORMAT = 3
_EVERYTHING = Reader(frozenset(), "fr", own_record=True)  # sees every author; labels are added apart
MASKED = orjson.dumps({"organisation": None, "profession": None, "masked": True})
_AUTHOR, _LABELS = "\x00author", "\x00labels"  # placeholders, cut out of an entry's JSON
_AUTHOR_CUT, _LABELS_CUT = (orjson.dumps(mark) for mark in (_AUTHOR, _LABELS))
_ZSTD_FRAME = b"\x28\xb5\x2f\xfd"  # how a zstd frame begins (RFC 8878)

# One entry of the head, as a list: what a read needs to pick and mask it, and where its JSON
# lies in the head's text (``START`` to ``AUTHOR_AT``: up to its author; ``AUTHOR_AT`` to
# ``AFTER_AT``: its author; ``AFTER_AT`` to ``END``: the rest up to its labels).
(ID, CATEGORY, OCCURRED_AT, SENSITIVE, LABELS, ORGANISATION, PROFESSION,
 START, AUTHOR_AT, AFTER_AT, END) = range(11)
_codecs = threading.local()  # zstd contexts are reused, one per thread (they are not shared)


def _compressor() -> zstandard.ZstdCompressor:
    if not hasattr(_codecs, "compressor"):
        # Level 1: a write makes the head again each time; it still packs ten to one.
        _codecs.compressor = zstandard.ZstdCompressor(level=1)
        _codecs.decompressor = zstandard.ZstdDecompressor()
    return _codecs.compressor


def _decompressor() -> zstandard.ZstdDecompressor:
    _compressor()
    return _codecs.decompressor


@dataclass
class Head:
    """``items``: newest first (see ``ID``…``END``). ``text``: the entries' JSON as the timeline
    answers it, one after the other, each without its labels and its closing brace; a read
    copies the parts it needs and does not parse them. ``labels``: per language, each distinct
    set of labels of the entries as JSON, which ``LABELS`` numbers."""

    vocabulary_version: str
    complete: bool
    items: list[list[Any]]
    labels: dict[str, list[str]]
    text: bytes

    def encode(self) -> bytes:
        """The head as stored (before sealing), compressed: its index as compact JSON (one
        line), then its text."""
        used = sorted({item[LABELS] for item in self.items})
        renumber = {old: new for new, old in enumerate(used)}
        items = [[*item[:LABELS], renumber[item[LABELS]], *item[LABELS + 1:]] for item in self.items]
        index = {"format": FORMAT, "vocabulary_version": self.vocabulary_version,
                 "complete": self.complete, "items": items,
                 "labels": {language: [sets[i] for i in used] for language, sets in self.labels.items()}}
        return _compressor().compress(orjson.dumps(index) + b"\n" + self.text)


def decode(raw: bytes) -> Head | None:
    """The head from its stored form; None if it is of a format this code does not know."""
    if not raw.startswith(_ZSTD_FRAME):
        return None  # an earlier format
    index, _, text = _decompressor().decompress(raw).partition(b"\n")
    document = orjson.loads(index)
    if document.get("format") != FORMAT:
        return None
    return Head(document["vocabulary_version"], document["complete"], document["items"], document["labels"], text)


def _key_of(item: list[Any]) -> tuple[datetime, str]:
    return datetime.fromisoformat(item[OCCURRED_AT]), item[ID]


# While a head is made or merged, each entry is a part: what its item says before ``START``, its
# JSON up to its labels, and where in that JSON its author begins and ends.
_Part = tuple[list[Any], bytes, int, int]


def _part(vocabulary: Vocabulary, entry: Entry, labels: dict[str, list[str]],
          label_index: dict[tuple[str, ...], int]) -> _Part:
    # Its codes in the order its sealed form keeps them (sorted), as a read of it gives them.
    entry = replace(entry, body=orjson.loads(orjson.dumps(entry.body, option=orjson.OPT_SORT_KEYS)))
    shown = show(vocabulary, entry, _EVERYTHING)
    author = orjson.dumps(shown["author"])
    shown["author"], shown["labels"] = _AUTHOR, _LABELS
    before, rest = orjson.dumps(shown, default=plain_json).split(_AUTHOR_CUT)
    after, end = rest.split(_LABELS_CUT)
    assert end == b"}", "the labels are the last field of a shown entry"
    sets = tuple(orjson.dumps(labels_of(vocabulary, entry, language)).decode() for language in LANGUAGES)
    index = label_index.get(sets)
    if index is None:
        index = label_index[sets] = len(labels[LANGUAGES[0]])
        for language, text in zip(LANGUAGES, sets, strict=True):
            labels[language].append(text)
    item = [entry.id, entry.category, entry.occurred_at.isoformat(), author_is_sensitive(entry.author.profession),
            index, entry.author.organisation, entry.author.profession]
    return item, before + author + after, len(before), len(before) + len(author)


def _parts_of(head: Head) -> list[_Part]:
    text = head.text
    return [(item[:START], text[item[START]:item[END]], item[AUTHOR_AT] - item[START], item[AFTER_AT] - item[START])
            for item in head.items]


def _packed(vocabulary_version: str, complete: bool, parts: list[_Part], labels: dict[str, list[str]]) -> Head:
    items, at = [], 0
    for item, json, author_at, after_at in parts:
        items.append([*item, at, at + author_at, at + after_at, at + len(json)])
        at += len(json)
    return Head(vocabulary_version, complete, items, labels, b"".join(part[1] for part in parts))


def _label_index(labels: dict[str, list[str]]) -> dict[tuple[str, ...], int]:
    return {tuple(labels[language][i] for language in LANGUAGES): i for i in range(len(labels[LANGUAGES[0]]))}


def build(vocabulary: Vocabulary, entries: Iterable[Entry], *, complete: bool) -> Head:
    """The head from the person's newest current entries, newest first (as the timeline reads
    them); ``complete`` when there are no more."""
    labels: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    index: dict[tuple[str, ...], int] = {}
    parts = [_part(vocabulary, entry, labels, index) for entry in entries]
    return _packed(vocabulary.version, complete, parts, labels)


def merge(head: Head, vocabulary: Vocabulary, added: Iterable[Entry], removed: Collection[str]) -> Head | None:
    """The head after a write that added these entries and replaced (voided, superseded) those
    ids; None when it must be made again from the entries instead."""
    if head.vocabulary_version != vocabulary.version:
        return None
    parts = [part for part in _parts_of(head) if part[0][ID] not in removed]
    keys = [_key_of(part[0]) for part in parts]
    labels = {language: list(sets) for language, sets in head.labels.items()}
    index = _label_index(labels)
    complete = head.complete
    for entry in added:
        if entry.kind == "void" or entry.id in removed:
            continue
        key = (entry.occurred_at, entry.id)
        if not complete and (not parts or key < keys[-1]):
            continue  # older than the oldest the head holds: not among the newest
        # Newest first: the position among the keys in descending order.
        position = len(keys) - bisect.bisect_left(keys[::-1], key)
        parts.insert(position, _part(vocabulary, entry, labels, index))
        keys.insert(position, key)
    if len(parts) > HEAD_SIZE:
        parts, complete = parts[:HEAD_SIZE], False
    if not complete and len(parts) < HEAD_SIZE // 2:
        return None  # corrections emptied it: make it again
    return _packed(head.vocabulary_version, complete, parts, labels)


# -- read -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeadPage:
    items: list[bytes]  # each entry's JSON, as the timeline answers it
    ids: list[str]
    categories: set[str]
    next_after: tuple[datetime, str] | None
    # The author of the entry asked for (the last contact met, for "last seen"), if the head
    # holds it: organisation, profession, and whether the profession is a protected one.
    author: tuple[str | None, str | None, bool] | None


def first_page(head: Head, vocabulary: Vocabulary, categories: Collection[str], reader: Reader,
               limit: int, *, author_of: str | None = None) -> HeadPage | None:
    """The first page (newest first) for this reader, exactly as the entries would give it, or
    None when the head cannot tell (then the read goes to the entries)."""
    if head.vocabulary_version != vocabulary.version:
        return None
    labels = head.labels.get(reader.language)
    if labels is None:
        return None
    sees_sensitive = reader.own_record or PROTECTED in reader.categories
    page: list[list[Any]] = []
    more = False
    for item in head.items:
        if item[CATEGORY] not in categories:
            continue
        if len(page) == limit:
            more = True
            break
        page.append(item)
    if not more and not head.complete:
        return None  # what follows the head is not known here
    author = None
    if author_of is not None:
        for item in head.items:
            if item[ID] == author_of:
                author = (item[ORGANISATION], item[PROFESSION], item[SENSITIVE])
                break
    text = head.text
    ends = [f"{sets}}}".encode() for sets in labels]
    texts = [
        text[item[START]:item[AUTHOR_AT]] + MASKED + text[item[AFTER_AT]:item[END]] + ends[item[LABELS]]
        if item[SENSITIVE] and not sees_sensitive else text[item[START]:item[END]] + ends[item[LABELS]]
        for item in page
    ]
    next_after = _key_of(page[-1]) if more and page else None
    return HeadPage(texts, [item[ID] for item in page], {item[CATEGORY] for item in page}, next_after, author)
