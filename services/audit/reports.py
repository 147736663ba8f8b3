"""The verification report: signed checkpoints, the tree recomputed from what is stored, the
chain of checkpoints, every person's chain, and the sources' sequence gaps.

It trusts nothing stored but the signing key: every hash is recomputed from the canonical
bytes of the entries, and every checkpoint's signature is checked before its root is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from services.audit.adapters.repository import AuditLogRepository
from services.audit.domain import merkle, persons
from services.audit.domain.checkpoints import Checkpoint, CheckpointError, open_note
from services.audit.domain.persons import PersonHead
from services.audit.domain.verification import check_leaves, check_rows


def verify_export(lines: Iterable[bytes], note: str, name: str, key: Ed25519PublicKey) -> dict[str, Any]:
    """Offline: an export of the whole log (its JSON lines) against one signed checkpoint."""
    try:
        checkpoint = open_note(note, name, key)
    except CheckpointError as exc:
        return {"ok": False, "checkpoint": f"rejected: {exc}", "first_bad_index": None}
    report = check_leaves((line.rstrip(b"\r\n") for line in lines if line.strip()), checkpoint)
    return {"checkpoint": "signature valid", **report.as_dict()}


def verification_report(session: Session, name: str, key: Ed25519PublicKey) -> dict[str, Any]:
    repository = AuditLogRepository(session)
    notes = repository.checkpoints()
    opened: list[Checkpoint] = []
    rejected = []
    for row in notes:
        try:
            opened.append(open_note(row["note"], name, key))
        except CheckpointError as exc:
            rejected.append({"size": row["size"], "problem": str(exc)})
    latest = opened[-1] if opened else None
    # One pass over the rows, streamed: the lines are checked and hashed, and the person of
    # each entry the latest checkpoint covers is noted for the person index.
    persons_of: list[str | None] = []
    covered = latest.size if latest is not None else 0
    ids: dict[str, str] = {}  # one string per person, however many entries name them

    def rows() -> Iterator[tuple[bytes, bytes | None]]:
        for row in repository.leaf_lines():
            if len(persons_of) < covered:
                person = _person_of(row[0])
                persons_of.append(None if person is None else ids.setdefault(person, person))
            yield row

    leaves = check_rows(rows(), latest)
    roots = _roots_at(leaves.leaf_hashes, [c.size for c in opened])
    chain = [
        {"size": c.size, "root_matches": roots.get(c.size) == c.root}
        for c in opened
    ]
    bad_chain = [c for c in chain if not c["root_matches"]]
    persons_ok = _persons_match(persons_of, leaves.leaf_hashes, latest)
    gaps = [g for g in repository.gaps() if g["missing"]]
    head_size = repository.head_size()
    ok = leaves.ok and not rejected and not bad_chain and persons_ok is not False and not gaps
    return {
        "ok": ok,
        "tree": leaves.as_dict(),
        "head_size": head_size,
        "checkpoints": {
            "count": len(notes),
            "signatures_rejected": rejected,
            "all_consistent": not bad_chain,
            "first_inconsistent_size": bad_chain[0]["size"] if bad_chain else None,
        },
        "persons_index_matches": persons_ok,
        "sequence_gaps": gaps,
        "sources": repository.gaps(),
    }


def _person_of(line: bytes) -> str | None:
    """The entry's pseudonymous id, from its canonical bytes (not from any other column)."""
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:  # what only json reads (NaN, ...), or not JSON at all
        try:
            document = json.loads(line)
        except ValueError:
            return None
    person = document.get("beneficiary_id") if isinstance(document, dict) else None
    return person if isinstance(person, str) and person else None


def _roots_at(leaf_hashes: list[bytes], sizes: list[int]) -> dict[int, bytes]:
    """The root of every prefix named in ``sizes``, in one pass: the leaves between two sizes
    are folded in as perfect subtrees."""
    wanted = sorted(set(s for s in sizes if 0 < s <= len(leaf_hashes)))
    roots: dict[int, bytes] = {}
    frontier = merkle.Frontier()
    done = 0
    for size in wanted:
        for level, root in merkle.subtree_roots(done, leaf_hashes[done:size]):
            frontier.append_subtree(level, root)
        done = size
        roots[size] = frontier.root()
    return roots


def _persons_match(persons_of: list[str | None], leaf_hashes: list[bytes],
                   checkpoint: Checkpoint | None) -> bool | None:
    """Recompute every person's chain up to the checkpoint and compare the index root."""
    if checkpoint is None:
        return None
    chains: dict[str, PersonHead] = {}
    for index, person in enumerate(persons_of[: min(checkpoint.size, len(leaf_hashes))]):
        if not person:
            continue
        before = chains.get(person)
        head = persons.chain(before.head if before else bytes(32), leaf_hashes[index])
        chains[person] = PersonHead(person, (before.count if before else 0) + 1, index, head)
    heads = persons.by_id(chains.values())
    return len(heads) == checkpoint.persons and persons.index_root(heads) == checkpoint.persons_root
