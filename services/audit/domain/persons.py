"""Per-person completeness: each person's events form their own chain, committed in every checkpoint.

A person's head after their k-th event is SHA-256(0x02 || previous head || leaf hash), starting
from 32 zero bytes. The person index is an RFC 6962 tree over one leaf per person, sorted by
pseudonymous id: ``{"count":k,"head":"<hex>","id":"<id>","last_index":n}``. Its root is in every
checkpoint. A person shown k events recomputes the head from their leaf hashes and checks, with
an inclusion proof into the person index, that the committed head and count are those: the list
is then complete, not only genuine. The neighbours' leaves show that the ids around theirs are
sorted, so no second leaf for the same id can hide elsewhere in the index.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.audit.domain import merkle
from services.audit.domain.entries import ZERO_HASH


def chain(previous_head: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x02" + previous_head + leaf).digest()


def chain_of(leaves: Sequence[bytes]) -> bytes:
    head = ZERO_HASH
    for leaf in leaves:
        head = chain(head, leaf)
    return head


@dataclass(frozen=True)
class PersonHead:
    person_id: str
    count: int
    last_index: int
    head: bytes

    def leaf_bytes(self) -> bytes:
        # json.dumps of {"count", "head", "id", "last_index"} with sorted keys and no spaces,
        # written out: the same bytes, without building and sorting a dict for every person
        # at every checkpoint.
        return b'{"count":%d,"head":"%s","id":%s,"last_index":%d}' % (
            self.count, self.head.hex().encode(), json.dumps(self.person_id).encode(), self.last_index
        )

    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.leaf_bytes())


def by_id(heads: Iterable[PersonHead]) -> list[PersonHead]:
    """The heads in the order of the index: by id, code point by code point (as Python
    compares strings and as UTF-8 bytes sort, whatever the database's collation)."""
    return sorted(heads, key=lambda h: h.person_id)


class PersonIndex:
    """Every person's head as of one state of the log, kept by an appending process from one
    batch to the next, so that a checkpoint need not read them all back from the database.

    It holds for one head only, named by its size and last leaf hash. The last leaf commits
    to every entry before it, so the same size and last leaf mean the same log and therefore
    the same person heads. When anyone else moved the head (another worker, the API, a batch
    rolled back after it was placed here), the index no longer matches and the caller reads
    the heads from the database again.
    """

    def __init__(self) -> None:
        self.size: int | None = None
        self.last_leaf: bytes | None = None
        self._heads: dict[str, PersonHead] = {}
        self._order: list[str] = []  # the ids, sorted
        self._leaves: dict[str, bytes] = {}  # leaf hashes computed so far, by id

    def is_at(self, size: int, last_leaf: bytes) -> bool:
        return self.size == size and self.last_leaf == last_leaf

    def load(self, size: int, last_leaf: bytes, heads: Iterable[PersonHead]) -> None:
        self._heads = {h.person_id: h for h in heads}
        self._order = sorted(self._heads)
        self._leaves = {}
        self.size, self.last_leaf = size, last_leaf

    def heads_of(self, ids: Iterable[str]) -> dict[str, PersonHead]:
        """The current heads of these persons (absent: no event yet)."""
        heads = self._heads
        return {i: heads[i] for i in ids if i in heads}

    def advance(self, before: tuple[int, bytes], after: tuple[int, bytes],
                changed: dict[str, PersonHead]) -> None:
        """The log moved from ``before`` to ``after`` with these new heads; an index that was
        not at ``before`` stays out of date."""
        if not self.is_at(*before):
            self.size = self.last_leaf = None
            return
        for person_id, head in changed.items():
            if person_id not in self._heads:
                bisect.insort(self._order, person_id)
            self._heads[person_id] = head
            self._leaves.pop(person_id, None)
        self.size, self.last_leaf = after

    def sorted_heads(self) -> list[PersonHead]:
        return [self._heads[i] for i in self._order]

    def root(self) -> bytes:
        leaves = self._leaves
        for person_id in self._order:
            if person_id not in leaves:
                leaves[person_id] = self._heads[person_id].leaf_hash()
        return merkle.root_of([leaves[i] for i in self._order])

    def __len__(self) -> int:
        return len(self._order)


def index_root(heads: Sequence[PersonHead]) -> bytes:
    """The root of the person index; ``heads`` sorted by id."""
    return merkle.root_of([h.leaf_hash() for h in heads])


def index_proof(heads: Sequence[PersonHead], position: int) -> list[bytes]:
    leaves = [h.leaf_hash() for h in heads]
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def read(level: int, index: int) -> bytes:
        return levels[level][index]

    return merkle.inclusion_proof(position, len(heads), read)


def verify_completeness(
    person_id: str,
    leaf_hashes: Sequence[bytes],
    last_index: int,
    position: int,
    persons: int,
    proof: Sequence[bytes],
    persons_root: bytes,
) -> None:
    """Raise ProofError unless ``leaf_hashes`` are all of this person's events in the checkpoint."""
    head = PersonHead(person_id, len(leaf_hashes), last_index, chain_of(leaf_hashes))
    merkle.verify_inclusion(position, persons, head.leaf_hash(), proof, persons_root)
