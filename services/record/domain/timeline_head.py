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
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

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
FORMAT = 2
_EVERYTHING = Reader(frozenset(), "fr", own_record=True)  # sees every author; labels are added apart
MASKED = orjson.dumps({"organisation": None, "profession": None, "masked": True}).decode()
_AUTHOR, _LABELS = "\x00author", "\x00labels"  # placeholders, cut out of an entry's JSON
_AUTHOR_CUT, _LABELS_CUT = (orjson.dumps(mark).decode() for mark in (_AUTHOR, _LABELS))

# One entry of the head, as a list (the head is parsed at every read: lists are the cheapest):
ID, CATEGORY, OCCURRED_AT, SENSITIVE, LABELS, ORGANISATION, PROFESSION, BEFORE, AUTHOR, AFTER = range(10)


@dataclass
class Head:
    """``items``: newest first, each the entry's JSON as the timeline answers it, cut in three
    around its author and its labels (``BEFORE`` + author + ``AFTER`` + labels + "}"), with what
    a read needs to pick and mask it. ``labels``: per language, each distinct set of labels of
    the entries as JSON, which ``LABELS`` numbers."""

    vocabulary_version: str
    complete: bool
    items: list[list[Any]]
    labels: dict[str, list[str]]

    def encode(self) -> bytes:
        """The head as stored (before sealing): compact JSON, compressed."""
        used = sorted({item[LABELS] for item in self.items})
        renumber = {old: new for new, old in enumerate(used)}
        items = [[*item[:LABELS], renumber[item[LABELS]], *item[LABELS + 1:]] for item in self.items]
        document = {"format": FORMAT, "vocabulary_version": self.vocabulary_version,
                    "complete": self.complete, "items": items,
                    "labels": {language: [sets[i] for i in used] for language, sets in self.labels.items()}}
        return zlib.compress(orjson.dumps(document), 1)  # fast: a write makes it again each time


def decode(raw: bytes) -> Head | None:
    """The head from its stored form; None if it is of a format this code does not know."""
    document = orjson.loads(zlib.decompress(raw))
    if document.get("format") != FORMAT:
        return None
    return Head(document["vocabulary_version"], document["complete"], document["items"], document["labels"])


def _key_of(item: list[Any]) -> tuple[datetime, str]:
    return datetime.fromisoformat(item[OCCURRED_AT]), item[ID]


def _item(vocabulary: Vocabulary, entry: Entry, head: Head, label_index: dict[tuple[str, ...], int]) -> list[Any]:
    # Its codes in the order its sealed form keeps them (sorted), as a read of it gives them.
    entry = replace(entry, body=orjson.loads(orjson.dumps(entry.body, option=orjson.OPT_SORT_KEYS)))
    shown = show(vocabulary, entry, _EVERYTHING)
    author = orjson.dumps(shown["author"]).decode()
    shown["author"], shown["labels"] = _AUTHOR, _LABELS
    text = orjson.dumps(shown, default=plain_json).decode()
    before, rest = text.split(_AUTHOR_CUT)
    after, end = rest.split(_LABELS_CUT)
    assert end == "}", "the labels are the last field of a shown entry"
    sets = tuple(orjson.dumps(labels_of(vocabulary, entry, language)).decode() for language in LANGUAGES)
    index = label_index.get(sets)
    if index is None:
        index = label_index[sets] = len(head.labels[LANGUAGES[0]])
        for language, labels in zip(LANGUAGES, sets, strict=True):
            head.labels[language].append(labels)
    return [entry.id, entry.category, entry.occurred_at.isoformat(), author_is_sensitive(entry.author.profession), index,
            entry.author.organisation, entry.author.profession, before, author, after]


def _label_index(head: Head) -> dict[tuple[str, ...], int]:
    return {tuple(head.labels[language][i] for language in LANGUAGES): i
            for i in range(len(head.labels[LANGUAGES[0]]))}


def build(vocabulary: Vocabulary, entries: Iterable[Entry], *, complete: bool) -> Head:
    """The head from the person's newest current entries, newest first (as the timeline reads
    them); ``complete`` when there are no more."""
    head = Head(vocabulary.version, complete, [], {language: [] for language in LANGUAGES})
    index: dict[tuple[str, ...], int] = {}
    head.items = [_item(vocabulary, entry, head, index) for entry in entries]
    return head


def merge(head: Head, vocabulary: Vocabulary, added: Iterable[Entry], removed: Collection[str]) -> Head | None:
    """The head after a write that added these entries and replaced (voided, superseded) those
    ids; None when it must be made again from the entries instead."""
    if head.vocabulary_version != vocabulary.version:
        return None
    items = [item for item in head.items if item[ID] not in removed]
    keys = [_key_of(item) for item in items]
    index = _label_index(head)
    complete = head.complete
    for entry in added:
        if entry.kind == "void" or entry.id in removed:
            continue
        key = (entry.occurred_at, entry.id)
        if not complete and (not items or key < keys[-1]):
            continue  # older than the oldest the head holds: not among the newest
        # Newest first: the position among the keys in descending order.
        position = len(keys) - bisect.bisect_left(keys[::-1], key)
        items.insert(position, _item(vocabulary, entry, head, index))
        keys.insert(position, key)
    if len(items) > HEAD_SIZE:
        items, complete = items[:HEAD_SIZE], False
    if not complete and len(items) < HEAD_SIZE // 2:
        return None  # corrections emptied it: make it again
    return Head(head.vocabulary_version, complete, items, head.labels)


# -- read -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeadPage:
    items: list[str]  # each entry's JSON, as the timeline answers it
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
    texts = [
        f"{item[BEFORE]}{MASKED if item[SENSITIVE] and not sees_sensitive else item[AUTHOR]}"
        f"{item[AFTER]}{labels[item[LABELS]]}}}"
        for item in page
    ]
    next_after = _key_of(page[-1]) if more and page else None
    return HeadPage(texts, [item[ID] for item in page], {item[CATEGORY] for item in page}, next_after, author)
