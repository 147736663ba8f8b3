"""The verifier accepts exactly the valid cases of the RFC 6962 test vectors (every hostile
mutation rejected), and the proofs we build verify for every tree size."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from services.audit.domain import merkle

DATA = Path(__file__).resolve().parents[1] / "data" / "rfc6962"
INCLUSION = sorted((DATA / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((DATA / "consistency").rglob("*.json"))


def _b(value):
    return base64.b64decode(value) if value else b""


def _name(path: Path) -> str:
    return str(path.relative_to(DATA))


def test_the_vectors_are_there():
    assert len(INCLUSION) > 50 and len(CONSISTENCY) > 50
    assert (DATA / "LICENSE").exists() and (DATA / "README.md").exists()


@pytest.mark.parametrize("path", INCLUSION, ids=_name)
def test_inclusion_vector(path):
    case = json.loads(path.read_text())
    proof = [_b(p) for p in case["proof"] or []]
    try:
        merkle.verify_inclusion(case["leafIdx"], case["treeSize"], _b(case["leafHash"]), proof, _b(case["root"]))
        accepted = True
    except merkle.ProofError:
        accepted = False
    assert accepted is not case["wantErr"], case["desc"]


@pytest.mark.parametrize("path", CONSISTENCY, ids=_name)
def test_consistency_vector(path):
    case = json.loads(path.read_text())
    proof = [_b(p) for p in case["proof"] or []]
    try:
        merkle.verify_consistency(case["size1"], case["size2"], _b(case["root1"]), _b(case["root2"]), proof)
        accepted = True
    except merkle.ProofError:
        accepted = False
    assert accepted is not case["wantErr"], case["desc"]


def _tree(n):
    leaves = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(n)]
    frontier = merkle.Frontier()
    nodes = {(0, i): h for i, h in enumerate(leaves)}
    roots = {0: merkle.EMPTY_ROOT}
    for leaf in leaves:
        for level, index, h in frontier.append(leaf):
            nodes[(level, index)] = h
        roots[frontier.size] = frontier.root()
    return leaves, nodes, roots


def _reference_root(leaves):
    """MTH exactly as RFC 9162 §2.1.1 defines it, recursively."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


def test_every_proof_we_build_verifies_and_roots_match_the_definition():
    leaves, nodes, roots = _tree(70)
    def read(level, index):
        return nodes[(level, index)]

    for n in range(1, 71):
        assert roots[n] == _reference_root(leaves[:n]) == merkle.root_of(leaves[:n])
        for m in range(n):
            merkle.verify_inclusion(m, n, leaves[m], merkle.inclusion_proof(m, n, read), roots[n])
        for old in range(1, n + 1):
            merkle.verify_consistency(old, n, roots[old], roots[n], merkle.consistency_proof(old, n, read))


def test_a_proof_for_the_wrong_leaf_or_size_fails():
    leaves, nodes, roots = _tree(13)
    proof = merkle.inclusion_proof(5, 13, lambda lv, ix: nodes[(lv, ix)])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(6, 13, leaves[5], proof, roots[13])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(5, 13, leaves[4], proof, roots[13])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(3, 13, roots[4], roots[13], merkle.consistency_proof(3, 13, lambda lv, ix: nodes[(lv, ix)]))


def test_the_root_of_packed_leaves_is_the_same():
    for n in range(0, 40):
        leaves = [merkle.leaf_hash(bytes([i])) for i in range(n)]
        assert merkle.root_of_packed(b"".join(leaves)) == merkle.root_of(leaves)


def test_aligned_subtrees_hashed_apart_fold_into_the_root():
    leaves, _nodes, roots = _tree(70)
    for n in range(0, 71):
        for cut in range(0, n + 1, 3):  # two ranges, as two worker processes would see them
            frontier = merkle.Frontier()
            for first, part in ((0, leaves[:cut]), (cut, leaves[cut:n])):
                for level, root in merkle.subtree_roots(first, part):
                    frontier.append_subtree(level, root)
            assert frontier.size == n and frontier.root() == roots[n]


def test_aligned_blocks_cover_the_range_each_at_a_multiple_of_its_width():
    for start in range(0, 40):
        for end in range(start, 80):
            blocks = merkle.aligned_blocks(start, end)
            position = start
            for level, first in blocks:
                assert first == position and first % (1 << level) == 0
                position += 1 << level
            assert position == end


def test_a_subtree_out_of_place_is_refused():
    frontier = merkle.Frontier()
    frontier.append(merkle.leaf_hash(b"a"))
    with pytest.raises(ValueError):
        frontier.append_subtree(1, bytes(32))
