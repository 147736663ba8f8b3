"""Offline verification of the whole log against a signed checkpoint; names the first bad index.

Each line is checked where it stands: its ``index`` must be its position and its ``prev`` the
leaf hash of the line before. A line altered in place breaks the ``prev`` of the next line; a
deleted, inserted or moved line breaks the ``index`` or ``prev`` where it stands. The root of
the first ``size`` leaves must then equal the checkpoint's, which also covers the last line.
When the database is at hand, its stored leaf hash of each row is compared too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.audit.domain import merkle
from services.audit.domain.checkpoints import Checkpoint
from services.audit.domain.entries import ZERO_HASH, read_head


@dataclass
class Finding:
    index: int
    problem: str


@dataclass
class LeafReport:
    entries: int = 0
    first_bad: Finding | None = None
    root_matches: bool | None = None
    checkpoint_size: int | None = None
    beyond_checkpoint: int = 0
    leaf_hashes: list[bytes] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return self.first_bad is None and self.root_matches is not False

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoint_size": self.checkpoint_size,
            "root_matches": self.root_matches,
            "entries_beyond_checkpoint": self.beyond_checkpoint,
            "first_bad_index": None if self.first_bad is None else self.first_bad.index,
            "problem": None if self.first_bad is None else self.first_bad.problem,
        }


class _Walker:
    """Checks lines one by one (the slow path, taken by a chunk that does not pass whole)."""

    def __init__(self, report: LeafReport) -> None:
        self.report = report
        self.pending: int | None = None  # a line whose prev does not match: it, or the one before?

    def step(self, position: int, line: bytes, previous: bytes, leaf: bytes, kept: bytes | None) -> None:
        report = self.report
        if report.first_bad is not None:
            return
        if self.pending is not None:
            # If this line chains to the suspect, the suspect is genuine and the one before it
            # was altered; otherwise the suspect itself is the intruder.
            chained = _prev_of(line) == report.leaf_hashes[self.pending].hex()
            report.first_bad = Finding(
                max(self.pending - 1, 0) if chained else self.pending,
                "content altered: the next entry does not chain to it" if chained
                else "entry inserted, moved or altered",
            )
            return
        report.first_bad, suspect = _check_line(position, line, previous, leaf, kept)
        if suspect:
            self.pending = position

    def finish(self) -> None:
        if self.report.first_bad is None and self.pending is not None:
            self.report.first_bad = Finding(
                max(self.pending - 1, 0), "content altered: the next entry does not chain to it"
            )


def _chunks(lines: Iterable[bytes], size: int = 65536):
    chunk: list[bytes] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_leaves(
    lines: Iterable[bytes],
    checkpoint: Checkpoint | None,
    stored_hashes: Iterable[bytes | None] | None = None,
) -> LeafReport:
    """Every line's leaf hash, checked where it stands (and against its stored hash, when
    given). A chunk whose lines all pass is checked as a whole; the first that does not is
    walked line by line to name the first bad index."""
    if stored_hashes is None:
        return check_rows(((line, None) for line in lines), checkpoint, with_stored=False)
    return check_rows(zip(lines, stored_hashes, strict=True), checkpoint)


def check_rows(
    rows: Iterable[tuple[bytes, bytes | None]], checkpoint: Checkpoint | None, *, with_stored: bool = True
) -> LeafReport:
    """``check_leaves`` for (line, stored leaf hash) pairs, as the database gives them."""
    report = LeafReport()
    sha = hashlib.sha256
    hashes = report.leaf_hashes
    walker = _Walker(report)
    previous = ZERO_HASH
    for chunk in _chunks(rows):
        base = len(hashes)
        chunk_lines = [line for line, _ in chunk]
        kept = [stored for _, stored in chunk]
        leaves = [sha(b"\x00" + line).digest() for line in chunk_lines]
        hashes.extend(leaves)
        if report.first_bad is None:
            fast = walker.pending is None and (not with_stored or kept == leaves) and all(
                line.startswith(b'{"index":%d,"prev":"%b"' % (base + i, before.hex().encode()))
                for i, (line, before) in enumerate(zip(chunk_lines, [previous, *leaves[:-1]], strict=True))
            )
            if not fast:
                before = previous
                for i, (line, leaf, stored) in enumerate(zip(chunk_lines, leaves, kept, strict=True)):
                    walker.step(base + i, line, before, leaf, stored)
                    before = leaf
        previous = leaves[-1]
    walker.finish()
    report.entries = len(hashes)
    if checkpoint is not None:
        report.checkpoint_size = checkpoint.size
        if checkpoint.size > len(hashes):
            report.root_matches = False
            report.first_bad = report.first_bad or Finding(len(hashes), "missing: the checkpoint covers more entries")
        else:
            report.beyond_checkpoint = len(hashes) - checkpoint.size
            report.root_matches = merkle.root_of(hashes[: checkpoint.size]) == checkpoint.root
            if not report.root_matches and report.first_bad is None:
                # Every line agrees with the next: only the last covered one can differ.
                report.first_bad = Finding(max(checkpoint.size - 1, 0), "root does not match the checkpoint")
    return report


def _prev_of(line: bytes) -> str | None:
    try:
        return read_head(line)[1]
    except ValueError:
        return None


def _check_line(
    position: int, line: bytes, previous: bytes, leaf: bytes, kept: bytes | None
) -> tuple[Finding | None, bool]:
    """A finding at this line, or (None, True) when the next line must decide who is bad."""
    if kept is not None:
        if kept != leaf:
            return Finding(position, "content altered: its leaf hash changed"), False
    try:
        index, prev = read_head(line)
    except ValueError:
        return Finding(position, "not a canonical log line"), False
    if index > position:
        return Finding(position, "entry missing: the next one stands here"), False
    if prev != previous.hex():
        return None, True
    if index != position:
        return Finding(position, "entry out of place"), False
    return None, False
