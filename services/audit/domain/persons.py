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

import hashlib
import json
from collections.abc import Sequence
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
        document = {"count": self.count, "head": self.head.hex(), "id": self.person_id,
                    "last_index": self.last_index}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.leaf_bytes())


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
