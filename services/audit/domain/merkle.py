"""The RFC 6962 / RFC 9162 §2.1 Merkle tree: hashes, appends, inclusion and consistency proofs.

Leaves are hashed as SHA-256(0x00 || bytes) and interior nodes as SHA-256(0x01 || left || right),
so a leaf can never pass for a node. The tree of n leaves splits at k, the largest power of two
smaller than n; every proof below follows that recursion.

Storage is someone else's business: proofs are built from *perfect* subtrees only (aligned
blocks of 2^level leaves), named by ``(level, index)``; ``needed_*`` list the nodes a proof will
ask for, so a repository can fetch them in one query, and ``NodeReader`` answers them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
NodeKey = tuple[int, int]  # (level, index): leaves index*2^level .. (index+1)*2^level - 1
NodeReader = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof does not hold, or is not even well formed."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes, level by level (fast for millions of leaves)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    frontier = Frontier()
    frontier.extend_level(list(leaf_hashes))
    return frontier.root()


def root_of_packed(packed: bytes) -> bytes:
    """MTH of leaf hashes given end to end (32 bytes each) in one bytes object."""
    if not packed:
        return EMPTY_ROOT
    frontier = Frontier()
    frontier.extend_packed(packed)
    return frontier.root()


def aligned_blocks(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut into perfect subtrees, left to right, each as large as its position
    allows: (level, first leaf). Every one starts at a multiple of its width, so they can be
    hashed apart (on several cores) and folded in order into a ``Frontier``."""
    blocks = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        blocks.append((level, start))
        start += 1 << level
    return blocks


def subtree_roots(first: int, leaves: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """The roots of the aligned blocks of ``leaves``, whose first is leaf number ``first``."""
    sha = hashlib.sha256
    roots = []
    for level, start in aligned_blocks(first, first + len(leaves)):
        offset = start - first
        hashes = list(leaves[offset : offset + (1 << level)])
        while len(hashes) > 1:
            pairs = iter(hashes)
            hashes = [sha(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=True)]
        roots.append((level, hashes[0]))
    return roots


class Frontier:
    """The right edge of a tree: the roots of its perfect subtrees, largest first.

    Appending a leaf merges equal-sized subtrees (like adding one in binary); every merge
    completes a perfect node, which ``append`` returns so that it can be stored for proofs.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError("a frontier holds one hash per set bit of the size")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; returns the perfect nodes it completed as (level, index, hash)."""
        completed = []
        carry, level, index = leaf, 0, self.size
        while (self.size >> level) & 1:
            carry = node_hash(self.hashes.pop(), carry)
            level += 1
            completed.append((level, index >> level, carry))
        self.hashes.append(carry)
        self.size += 1
        return completed

    def append_subtree(self, level: int, root: bytes) -> None:
        """Add a perfect subtree of 2^level leaves, by its root; it must start where the tree
        ends, at a multiple of its width (as ``aligned_blocks`` cuts them)."""
        width = 1 << level
        if self.size % width:
            raise ValueError(f"a subtree of {width} leaves cannot start at leaf {self.size}")
        carry = root
        while (self.size >> level) & 1:
            carry = node_hash(self.hashes.pop(), carry)
            level += 1
        self.hashes.append(carry)
        self.size += width

    def extend_level(self, leaves: list[bytes]) -> None:
        """Add many leaf hashes to an empty frontier quickly, without recording nodes."""
        assert self.size == 0
        self._extend_levels(len(leaves), leaves, 0)

    def extend_packed(self, packed: bytes) -> None:
        """Like ``extend_level`` for leaf hashes given end to end in one bytes object."""
        assert self.size == 0 and len(packed) % HASH_SIZE == 0
        n = len(packed) // HASH_SIZE
        sha = hashlib.sha256
        tops: dict[int, bytes] = {}
        if n & 1:
            tops[0] = packed[-HASH_SIZE:]
        level_one = [sha(b"\x01" + packed[i : i + 64]).digest() for i in range(0, (n // 2) * 64, 64)]
        self._extend_levels(n, level_one, 1, tops)

    def _extend_levels(self, n: int, hashes: list[bytes], level: int, tops: dict[int, bytes] | None = None) -> None:
        tops = dict(tops or {})
        sha = hashlib.sha256
        while hashes:
            if len(hashes) & 1:
                tops[level] = hashes[-1]
            pairs = iter(hashes[: len(hashes) & ~1])
            hashes = [sha(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
            level += 1
        self.size = n
        self.hashes = [tops[lv] for lv in sorted(tops, reverse=True)]

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            root = node_hash(left, root)
        return root


# -- building proofs from stored perfect nodes -----------------------------------------------
def _range_nodes(start: int, end: int) -> list[NodeKey]:
    """The perfect subtrees whose hashes fold (right to left) into MTH(D[start:end])."""
    keys = []
    while end - start > 0:
        width = 1 << ((end - start).bit_length() - 1)
        level = width.bit_length() - 1
        keys.append((level, start >> level))
        start += width
    return keys


def _range_hash(start: int, end: int, read: NodeReader) -> bytes:
    hashes = [read(level, index) for level, index in _range_nodes(start, end)]
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[0:n]) as the leaf ranges of its hashes, leaf side first."""
    ranges: list[tuple[int, int]] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m = start + k, m - k
    return list(reversed(ranges))


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) as leaf ranges."""
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    return list(reversed(ranges))


def needed_nodes(ranges: Iterable[tuple[int, int]]) -> set[NodeKey]:
    return {key for start, end in ranges for key in _range_nodes(start, end)}


def inclusion_plan(index: int, size: int) -> list[tuple[int, int]]:
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    return _inclusion_ranges(index, size)


def consistency_plan(old: int, new: int) -> list[tuple[int, int]]:
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    return [] if old == new else _consistency_ranges(old, new)


def build_proof(ranges: Sequence[tuple[int, int]], read: NodeReader) -> list[bytes]:
    return [_range_hash(start, end, read) for start, end in ranges]


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    return build_proof(inclusion_plan(index, size), read)


def consistency_proof(old: int, new: int, read: NodeReader) -> list[bytes]:
    return build_proof(consistency_plan(old, new), read)


# -- verifying (RFC 9162 §2.1.3.2 and §2.1.4.2) ----------------------------------------------
def _check_hashes(proof: Sequence[bytes]) -> None:
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("a proof hash is not 32 bytes")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if size <= 0 or not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError("the leaf hash is not 32 bytes")
    _check_hashes(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    if old > new:
        raise ProofError("the old tree is larger than the new one")
    if old == 0:
        raise ProofError("a consistency proof from an empty tree proves nothing")
    if old == new:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if old_root != new_root:
            raise ProofError("equal sizes with different roots")
        return
    if not proof:
        raise ProofError("the proof is empty")
    _check_hashes(proof)
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: the old root is the proof's first hash
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than needed")
    if fr != old_root or sr != new_root:
        raise ProofError("the consistency proof does not lead to both roots")
