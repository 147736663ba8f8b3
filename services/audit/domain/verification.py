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

    def __init__(self, report: LeafReport, stored) -> None:
        self.report = report
        self.stored = stored
        self.pending: int | None = None  # a line whose prev does not match: it, or the one before?

    def step(self, position: int, line: bytes, previous: bytes, leaf: bytes) -> None:
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
        report.first_bad, suspect = _check_line(position, line, previous, leaf, self.stored)
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
    report = LeafReport()
    sha = hashlib.sha256
    hashes = report.leaf_hashes
    stored = iter(stored_hashes) if stored_hashes is not None else None
    walker = _Walker(report, stored)
    previous = ZERO_HASH
    for chunk in _chunks(lines):
        base = len(hashes)
        leaves = [sha(b"\x00" + line).digest() for line in chunk]
        hashes.extend(leaves)
        if report.first_bad is None:
            fast = stored is None and walker.pending is None and all(
                line.startswith(b'{"index":%d,"prev":"%b"' % (base + i, before.hex().encode()))
                for i, (line, before) in enumerate(zip(chunk, [previous, *leaves[:-1]], strict=True))
            )
            if not fast:
                before = previous
                for i, (line, leaf) in enumerate(zip(chunk, leaves, strict=True)):
                    walker.step(base + i, line, before, leaf)
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
    position: int, line: bytes, previous: bytes, leaf: bytes, stored
) -> tuple[Finding | None, bool]:
    """A finding at this line, or (None, True) when the next line must decide who is bad."""
    if stored is not None:
        kept = next(stored, None)
        if kept is not None and kept != leaf:
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
