"""Checking a JSON lines export of the whole log on every core.

Each worker process takes a byte range of the file, hashes its lines and checks that each line
carries the index and ``prev`` that follow from the line before it; the parent joins the ranges
(the first line of each must follow the last of the previous one) and compares the root with
the checkpoint. hashlib holds the GIL for lines this short, hence processes, not threads. When
anything is off, the one-line-at-a-time check of ``domain.verification`` runs to name the first
bad index exactly.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.domain import merkle
from services.audit.domain.checkpoints import CheckpointError, open_note
from services.audit.domain.entries import ZERO_HASH, read_head
from services.audit.domain.verification import check_leaves

BLOCK = 32 << 20


def _ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as handle:
        for k in range(1, parts):
            handle.seek(max(size * k // parts, cuts[-1]))
            handle.readline()
            cuts.append(min(handle.tell(), size))
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _lines(path: Path, start: int, end: int):
    with path.open("rb") as handle:
        handle.seek(start)
        rest = b""
        left = end - start
        while left > 0:
            block = handle.read(min(BLOCK, left))
            if not block:
                break
            left -= len(block)
            parts = (rest + block).split(b"\n")
            rest = parts.pop()
            yield from filter(None, parts)
        if rest:
            yield rest


def _check_range(path: str, start: int, end: int) -> tuple[int, int | None, str | None, bool, bytes]:
    """(lines, first line's index, first line's prev, all lines follow each other, leaf hashes)."""
    sha = hashlib.sha256
    lines = list(_lines(Path(path), start, end))
    if not lines:
        return 0, None, None, True, b""
    leaves = [sha(b"\x00" + line).digest() for line in lines]
    try:
        first_index, first_prev = read_head(lines[0])
    except ValueError:
        return len(lines), None, None, False, b"".join(leaves)
    ok = all(
        line.startswith(b'{"index":%d,"prev":"%b"' % (first_index + i, before.hex().encode()))
        for i, (line, before) in enumerate(zip(lines[1:], leaves, strict=False), start=1)
    )
    return len(lines), first_index, first_prev, ok, b"".join(leaves)


def verify_export_file(path: Path, note: str, name: str, key: Ed25519PublicKey,
                       workers: int | None = None) -> dict[str, Any]:
    try:
        checkpoint = open_note(note, name, key)
    except CheckpointError as exc:
        return {"ok": False, "checkpoint": f"rejected: {exc}", "first_bad_index": None}
    workers = workers or os.cpu_count() or 1
    ranges = _ranges(path, workers)
    if len(ranges) <= 1:
        results = [_check_range(str(path), *ranges[0])] if ranges else []
    else:
        with ProcessPoolExecutor(max_workers=len(ranges)) as pool:
            results = list(pool.map(_check_range, [str(path)] * len(ranges), *zip(*ranges, strict=True)))
    packed: list[bytes] = []
    entries, last, follows = 0, ZERO_HASH, True
    for count, first_index, first_prev, ok, hashes in results:
        if count == 0:
            continue
        follows = follows and ok and first_index == entries and first_prev == last.hex()
        packed.append(hashes)
        entries, last = entries + count, hashes[-32:]
    covered = b"".join(packed)[: checkpoint.size * 32]
    if follows and checkpoint.size <= entries and merkle.root_of_packed(covered) == checkpoint.root:
        return {
            "checkpoint": "signature valid", "ok": True, "entries": entries,
            "checkpoint_size": checkpoint.size, "root_matches": True,
            "entries_beyond_checkpoint": entries - checkpoint.size,
            "first_bad_index": None, "problem": None,
        }
    # Something is off: walk the file line by line to name the first bad index.
    report = check_leaves(_lines(path, 0, path.stat().st_size), checkpoint)
    return {"checkpoint": "signature valid", **report.as_dict()}
