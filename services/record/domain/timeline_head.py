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

import sys
import threading
from array import array
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
FORMAT = 4
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
# As stored, the entries' facts are in columns, each of fixed-size values (ids padded to the
# longest id of the head, times likewise; a category, a sensitive flag, labels, offsets, and the
# author's organisation and profession as numbers, the names being in the first line), so that
# a read takes what it needs from bytes without parsing anything.
_LITTLE_ENDIAN = sys.byteorder == "little"  # numbers are stored little-endian
if array("H").itemsize != 2 or array("I").itemsize != 4:
    raise ImportError("the timeline head stores numbers of 2 and 4 bytes")


def _array(typecode: str, raw: bytes) -> array:
    numbers = array(typecode, raw)
    if not _LITTLE_ENDIAN:
        numbers.byteswap()
    return numbers


def _stored(numbers: array) -> bytes:
    if not _LITTLE_ENDIAN:
        numbers = array(numbers.typecode, numbers)
        numbers.byteswap()
    return numbers.tobytes()


def _compressor() -> zstandard.ZstdCompressor:
    if not hasattr(_codecs, "compressor"):
        # Level 1: a write makes the head again each time; it still packs ten to one.
        _codecs.compressor = zstandard.ZstdCompressor(level=1)
        _codecs.decompressor = zstandard.ZstdDecompressor()
    return _codecs.compressor


def _decompressor() -> zstandard.ZstdDecompressor:
    _compressor()
    return _codecs.decompressor


class Head:
    """The entries newest first, in columns. ``text``: their JSON as the timeline answers it, one
    after the other, each without its labels and its closing brace; a read copies the parts it
    needs and parses none. ``labels``: per language, each distinct set of labels as JSON, which an
    entry names by its place in the list (``label_sets``). ``categories``: the category names,
    which ``category`` names by number (one byte per entry). ``ids`` and ``occurred``: each
    entry's id and when it happened (ISO 8601), ``id_width`` and ``at_width`` bytes each, padded
    with NUL. ``sensitive``: one byte per entry, 1 when its author's profession is one the
    mental-health category protects. ``offsets``: four per entry, where its JSON lies in
    ``text`` (``START`` … ``END``). ``organisation`` and ``profession``: per entry, the place of
    its author's in ``organisations`` and ``professions``."""

    __slots__ = ("vocabulary_version", "complete", "labels", "text", "categories", "ids", "id_width",
                 "category", "sensitive", "label_sets", "offsets", "occurred", "at_width", "organisations",
                 "professions", "organisation", "profession")

    def __init__(self, vocabulary_version: str, complete: bool, labels: dict[str, list[str]], text: bytes, *,
                 categories: list[str], ids: bytes, id_width: int, category: bytes, sensitive: bytes,
                 label_sets: array, offsets: array, occurred: bytes, at_width: int,
                 organisations: list[str | None], professions: list[str | None], organisation: array,
                 profession: array) -> None:
        self.vocabulary_version, self.complete, self.labels, self.text = vocabulary_version, complete, labels, text
        self.categories, self.ids, self.id_width, self.category = categories, ids, id_width, category
        self.sensitive, self.label_sets, self.offsets = sensitive, label_sets, offsets
        self.occurred, self.at_width = occurred, at_width
        self.organisations, self.professions = organisations, professions
        self.organisation, self.profession = organisation, profession

    def __len__(self) -> int:
        return len(self.category)

    def occurred_at(self, position: int) -> str:
        width = self.at_width
        return self.occurred[position * width:(position + 1) * width].rstrip(b"\0").decode()

    def author(self, position: int) -> tuple[str | None, str | None]:
        """The organisation and the profession of the author of the entry at that place."""
        return self.organisations[self.organisation[position]], self.professions[self.profession[position]]

    def find(self, entry_id: str) -> int | None:
        """The place of that entry in the head, if it holds it."""
        width = self.id_width
        wanted = entry_id.encode().ljust(width, b"\0")
        if len(wanted) != width:
            return None
        at = self.ids.find(wanted)
        while at != -1 and at % width:
            at = self.ids.find(wanted, at + 1)
        return None if at == -1 else at // width

    @property
    def items(self) -> list[list[Any]]:
        """Each entry as a list (``ID``…``END``)."""
        offsets = self.offsets.tolist()
        return [[*part[0], *offsets[4 * i:4 * i + 4]] for i, part in enumerate(_parts_of(self))]

    def encode(self) -> bytes:
        """The head as stored (before sealing), compressed: a line of JSON saying what follows and
        how long each part is, then the columns and the text."""
        header = {"format": FORMAT, "vocabulary_version": self.vocabulary_version, "complete": self.complete,
                  "categories": self.categories, "labels": self.labels, "count": len(self),
                  "id_width": self.id_width, "at_width": self.at_width,
                  "organisations": self.organisations, "professions": self.professions}
        return _compressor().compress(b"".join((
            orjson.dumps(header), b"\n", self.ids, self.category, self.sensitive, _stored(self.label_sets),
            _stored(self.offsets), self.occurred, _stored(self.organisation), _stored(self.profession),
            self.text)))


def decode(raw: bytes) -> Head | None:
    """The head from its stored form; None if it is of a format this code does not know."""
    if not raw.startswith(_ZSTD_FRAME):
        return None  # an earlier format
    plain = _decompressor().decompress(raw)
    line_end = plain.find(b"\n")
    try:
        header = orjson.loads(plain[:line_end])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return None
    count, id_width, at_width = header["count"], header["id_width"], header["at_width"]
    at = line_end + 1
    parts = []
    for length in (count * id_width, count, count, 2 * count, 16 * count, count * at_width, 2 * count, 2 * count):
        parts.append(plain[at:at + length])
        at += length
    ids, category, sensitive, label_sets, offsets, occurred, organisation, profession = parts
    return Head(header["vocabulary_version"], header["complete"], header["labels"], plain[at:],
                categories=header["categories"], ids=ids, id_width=id_width, category=category,
                sensitive=sensitive, label_sets=_array("H", label_sets), offsets=_array("I", offsets),
                occurred=occurred, at_width=at_width, organisations=header["organisations"],
                professions=header["professions"], organisation=_array("H", organisation),
                profession=_array("H", profession))


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
    count, text, offsets = len(head), head.text, head.offsets.tolist()
    ids, times = _fixed(head.ids, head.id_width, count), _fixed(head.occurred, head.at_width, count)
    categories, organisations, professions = head.categories, head.organisations, head.professions
    return [([ids[i], categories[head.category[i]], times[i], bool(head.sensitive[i]), head.label_sets[i],
              organisations[head.organisation[i]], professions[head.profession[i]]],
             text[offsets[4 * i]:offsets[4 * i + 3]], offsets[4 * i + 1] - offsets[4 * i],
             offsets[4 * i + 2] - offsets[4 * i])
            for i in range(count)]


def _fixed(raw: bytes, width: int, count: int) -> list[str]:
    """The ``count`` values of a column of ``width`` bytes each, NUL-padded."""
    if raw.isascii():  # ids and times, always: cut the text once decoded
        text = raw.decode("ascii")
        values = [text[i * width:(i + 1) * width] for i in range(count)]
        return [value.rstrip("\0") for value in values] if "\0" in text else values
    return [raw[i * width:(i + 1) * width].rstrip(b"\0").decode() for i in range(count)]


def _packed(vocabulary_version: str, complete: bool, parts: list[_Part], labels: dict[str, list[str]]) -> Head:
    """The head of these parts, newest first; of the label sets, only those its entries use."""
    used = sorted({part[0][LABELS] for part in parts})
    renumber = {old: new for new, old in enumerate(used)}
    categories = sorted({part[0][CATEGORY] for part in parts})
    category_number = {name: number for number, name in enumerate(categories)}
    organisations: dict[str | None, int] = {}
    professions: dict[str | None, int] = {}
    ids, times, texts = [], [], []
    category, sensitive = bytearray(), bytearray()
    label_sets, organisation, profession, offsets = array("H"), array("H"), array("H"), array("I")
    at = 0
    for item, json, author_at, after_at in parts:
        ids.append(item[ID].encode())
        times.append(item[OCCURRED_AT].encode())
        category.append(category_number[item[CATEGORY]])
        sensitive.append(1 if item[SENSITIVE] else 0)
        label_sets.append(renumber[item[LABELS]])
        organisation.append(organisations.setdefault(item[ORGANISATION], len(organisations)))
        profession.append(professions.setdefault(item[PROFESSION], len(professions)))
        offsets.extend((at, at + author_at, at + after_at, at + len(json)))
        texts.append(json)
        at += len(json)
    id_width, ids_column = _column(ids)
    at_width, times_column = _column(times)
    return Head(
        vocabulary_version, complete, {language: [sets[i] for i in used] for language, sets in labels.items()},
        b"".join(texts), categories=categories, ids=ids_column, id_width=id_width, category=bytes(category),
        sensitive=bytes(sensitive), label_sets=label_sets, offsets=offsets, occurred=times_column,
        at_width=at_width, organisations=list(organisations), professions=list(professions),
        organisation=organisation, profession=profession)


def _column(values: list[bytes]) -> tuple[int, bytes]:
    """Values of one column, each padded with NUL to the longest: its width and its bytes."""
    width = max(map(len, values), default=0)
    if all(len(value) == width for value in values):
        return width, b"".join(values)
    return width, b"".join(value.ljust(width, b"\0") for value in values)


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
    parts = _parts_of(head)
    if removed:
        parts = [part for part in parts if part[0][ID] not in removed]
    labels = {language: list(sets) for language, sets in head.labels.items()}
    index = _label_index(labels)
    complete = head.complete
    for entry in added:
        if entry.kind == "void" or entry.id in removed:
            continue
        key = (entry.occurred_at, entry.id)
        if not complete and (not parts or key < _key_of(parts[-1][0])):
            continue  # older than the oldest the head holds: not among the newest
        # Newest first: after every entry whose key is not below its own (a binary search that
        # reads the time of the few entries it looks at).
        low, high = 0, len(parts)
        while low < high:
            middle = (low + high) // 2
            if _key_of(parts[middle][0]) >= key:
                low = middle + 1
            else:
                high = middle
        parts.insert(low, _part(vocabulary, entry, labels, index))
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
    shown = [name in categories for name in head.categories]
    if all(shown):  # the reader sees every category the head holds: the first ``limit``
        page = range(min(limit, len(head)))
        more = len(head) > limit
    else:
        page, more = [], False
        for position, number in enumerate(head.category):
            if not shown[number]:
                continue
            if len(page) == limit:
                more = True
                break
            page.append(position)
    if not more and not head.complete:
        return None  # what follows the head is not known here
    author = None
    if author_of is not None and (found := head.find(author_of)) is not None:
        organisation, profession = head.author(found)
        author = (organisation, profession, bool(head.sensitive[found]))
    text, offsets, label_sets, sensitive = head.text, head.offsets, head.label_sets, head.sensitive
    ends = [f"{sets}}}".encode() for sets in labels]
    if isinstance(page, range):  # the first entries: their columns, sliced
        count = len(page)
        starts, stops, label_of = offsets[0:4 * count:4], offsets[3:4 * count:4], label_sets[:count]
        masked = not sees_sensitive and any(sensitive[:count])
    else:
        starts = [offsets[4 * position] for position in page]
        stops = [offsets[4 * position + 3] for position in page]
        label_of = [label_sets[position] for position in page]
        masked = not sees_sensitive and any(sensitive[position] for position in page)
    if masked:
        texts = [text[start:offsets[4 * position + 1]] + MASKED + text[offsets[4 * position + 2]:stop] + ends[label]
                 if sensitive[position] else text[start:stop] + ends[label]
                 for position, start, stop, label in zip(page, starts, stops, label_of, strict=True)]
    else:
        texts = [text[start:stop] + ends[label] for start, stop, label in zip(starts, stops, label_of, strict=True)]
    all_ids = _fixed(head.ids, head.id_width, len(head))
    ids = [all_ids[position] for position in page]
    next_after = None
    if more and page:
        next_after = (datetime.fromisoformat(head.occurred_at(page[-1])), ids[-1])
    names = head.categories
    shown_categories = {names[number] for number in set(map(head.category.__getitem__, page))}
    return HeadPage(texts, ids, shown_categories, next_after, author)
