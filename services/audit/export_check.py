"""Checking a JSON lines export of the whole log on every core.

Each worker process takes a byte range of the file and reads it in large blocks. It hashes
each line where it lies in the block (the separator before a line is overwritten with the
leaf prefix 0x00, so no line is copied), checks that each line carries the index and ``prev``
that follow from the line before it, and hashes the perfect subtrees of its leaves that lie
within the checkpoint. The parent joins the ranges (the first line of each must follow the
last of the previous one), folds the subtrees in order into the root and compares it with
the checkpoint. hashlib holds the GIL for lines this short, hence processes, not threads.
When anything is off, the one-line-at-a-time check of ``domain.verification`` runs to name
the first bad index exactly.
"""

from __future__ import annotations

import binascii
import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.domain import merkle
from services.audit.domain.checkpoints import CheckpointError, open_note
from services.audit.domain.entries import ZERO_HASH, read_head
from services.audit.domain.verification import check_leaves

BLOCK = 8 << 20


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
    """The non-empty lines of a byte range (for the line-by-line check)."""
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


@dataclass
class RangeCheck:
    """What a worker found in its byte range."""

    lines: int = 0
    first_index: int | None = None  # as the first line says
    first_prev: str | None = None
    follows: bool = True  # every line after the first carries the index and prev that follow
    last_leaf: bytes = ZERO_HASH
    subtrees: list[tuple[int, bytes]] | None = None  # (level, root), within the checkpoint


def _check_range(path: str, start: int, end: int, covered: int) -> RangeCheck:
    """Hash and chain-check the lines in [start, end) of the file; hash the subtrees of the
    leaves below ``covered`` (the checkpoint's size), placed where the first line says."""
    sha, hexlify = hashlib.sha256, binascii.hexlify
    leaves: list[bytes] = []
    keep = leaves.append
    found = RangeCheck()
    follows = True
    expected = -1  # the index the next line must carry; -1 until the first line is read
    prev_hex = b""
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        carry = b""
        while left > 0 or carry:
            data = handle.read(min(BLOCK, left)) if left > 0 else b""
            left -= len(data)
            last = left <= 0 or not data
            buffer = bytearray(1 + len(carry) + len(data))
            buffer[1 : 1 + len(carry)] = carry
            buffer[1 + len(carry) :] = data
            stop = len(buffer) if last else buffer.rfind(b"\n") + 1
            if stop <= 0:  # one line longer than a block: read on
                carry = bytes(buffer[1:])
                continue
            carry = b"" if last else bytes(buffer[stop:])
            view = memoryview(buffer)
            find, starts = buffer.find, buffer.startswith
            position = 1
            if expected < 0:
                while position < stop and buffer[position] == 0x0A:  # blank lines
                    position += 1
                if position < stop:  # the first line: where the range claims to start
                    try:
                        index, prev = read_head(bytes(view[position : position + 128]).split(b"\n")[0])
                    except ValueError:
                        follows, index, prev = False, 0, ""
                    found.first_index, found.first_prev = index, prev
                    expected, prev_hex = index, prev.encode()
            while position < stop:
                newline = find(b"\n", position, stop)
                if newline < 0:
                    newline = stop
                if newline > position:
                    if follows and not starts(b'{"index":%d,"prev":"%s"' % (expected, prev_hex), position):
                        follows = False
                    buffer[position - 1] = 0  # the leaf prefix, where the separator was
                    leaf = sha(view[position - 1 : newline]).digest()
                    keep(leaf)
                    prev_hex = hexlify(leaf)
                    expected += 1
                position = newline + 1
            view.release()
            if last:
                break
    found.lines, found.follows = len(leaves), follows
    if leaves:
        found.last_leaf = leaves[-1]
        if follows and found.first_index is not None:
            within = max(0, min(len(leaves), covered - found.first_index))
            found.subtrees = merkle.subtree_roots(found.first_index, leaves[:within])
    return found


def verify_export_file(path: Path, note: str, name: str, key: Ed25519PublicKey,
                       workers: int | None = None) -> dict[str, Any]:
    try:
        checkpoint = open_note(note, name, key)
    except CheckpointError as exc:
        return {"ok": False, "checkpoint": f"rejected: {exc}", "first_bad_index": None}
    workers = workers or os.cpu_count() or 1
    ranges = _ranges(path, workers)
    size = checkpoint.size
    if len(ranges) <= 1:
        results = [_check_range(str(path), *ranges[0], size)] if ranges else []
    else:
        with ProcessPoolExecutor(max_workers=len(ranges)) as pool:
            results = list(pool.map(_check_range, [str(path)] * len(ranges), *zip(*ranges, strict=True),
                                    [size] * len(ranges)))
    frontier = merkle.Frontier()
    entries, last, follows = 0, ZERO_HASH, True
    for found in results:
        if found.lines == 0:
            continue
        follows = (follows and found.follows and found.first_index == entries
                   and found.first_prev == last.hex())
        if follows:
            for level, root in found.subtrees or ():
                frontier.append_subtree(level, root)
        entries, last = entries + found.lines, found.last_leaf
    if follows and size <= entries and frontier.size == size and frontier.root() == checkpoint.root:
        return {
            "checkpoint": "signature valid", "ok": True, "entries": entries,
            "checkpoint_size": size, "root_matches": True,
            "entries_beyond_checkpoint": entries - size,
            "first_bad_index": None, "problem": None,
        }
    # Something is off: walk the file line by line to name the first bad index.
    report = check_leaves(_lines(path, 0, path.stat().st_size), checkpoint)
    return {"checkpoint": "signature valid", **report.as_dict()}
