"""Appending a batch of events to the log: indices, leaves, tree nodes, person chains, sources.

Pure: it takes the head (size, frontier, last leaf) and the person heads it touches, and returns
everything to store. The adapter stores it in one transaction under a compare-and-swap on the
head, so two writers can never give two events the same index (no fork).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.audit.domain.entries import ZERO_HASH, AuditEvent, LogEntry, PersonLink, place
from services.audit.domain.merkle import Frontier
from services.audit.domain.persons import PersonHead, chain


@dataclass
class Head:
    size: int
    frontier: list[bytes]
    last_leaf: bytes = ZERO_HASH

    def root(self) -> bytes:
        return Frontier(self.size, self.frontier).root()

    def pack(self) -> bytes:
        return b"".join(self.frontier)

    @staticmethod
    def unpack(size: int, packed: bytes, last_leaf: bytes) -> Head:
        return Head(size, [packed[i : i + 32] for i in range(0, len(packed), 32)], last_leaf)


@dataclass
class Appended:
    entries: list[LogEntry] = field(default_factory=list)
    nodes: list[tuple[int, int, bytes]] = field(default_factory=list)
    persons: dict[str, PersonHead] = field(default_factory=dict)  # new heads, by id
    head: Head | None = None


def append(
    head: Head,
    events: list[AuditEvent],
    person_heads: dict[str, PersonHead],
    recorded_at: datetime,
) -> Appended:
    frontier = Frontier(head.size, head.frontier)
    out = Appended()
    prev = head.last_leaf
    heads = dict(person_heads)
    for event in events:
        index = frontier.size
        person = event.beneficiary_id
        link = None
        if person:
            before = heads.get(person)
            link = PersonLink(
                (before.count + 1) if before else 1, before.last_index if before else None
            )
        entry = place(index, prev, event, recorded_at, link)
        out.entries.append(entry)
        out.nodes.extend(frontier.append(entry.leaf_hash))
        if person and link:
            previous_head = heads[person].head if person in heads else ZERO_HASH
            heads[person] = out.persons[person] = PersonHead(
                person, link.seq, index, chain(previous_head, entry.leaf_hash)
            )
        prev = entry.leaf_hash
    out.head = Head(frontier.size, list(frontier.hashes), prev)
    return out


@dataclass(frozen=True)
class SourceState:
    """How far a source's gap-free sequence is known complete, and the highest number seen."""

    source: str
    contiguous: int
    highest: int


def advance(state: SourceState, received: set[int]) -> SourceState:
    """Move ``contiguous`` over every number now received (``received`` holds those above it)."""
    contiguous = state.contiguous
    while contiguous + 1 in received:
        contiguous += 1
    highest = max([state.highest, contiguous, *received]) if received else max(state.highest, contiguous)
    return SourceState(state.source, contiguous, highest)


def missing_ranges(contiguous: int, highest: int, received_above: list[int]) -> list[tuple[int, int]]:
    """The missing sequence numbers between ``contiguous`` and ``highest``, as inclusive ranges."""
    gaps, expected = [], contiguous + 1
    for number in sorted(set(received_above)):
        if number > expected:
            gaps.append((expected, number - 1))
        expected = max(expected, number + 1)
    if highest >= expected:
        gaps.append((expected, highest))
    return gaps
