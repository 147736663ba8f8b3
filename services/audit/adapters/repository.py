"""Reading the log: searches, entries, tree nodes for proofs, checkpoints, person chains, gaps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from services.audit.adapters.orm import (
    audit_checkpoints,
    audit_head,
    audit_log,
    audit_person_heads,
    audit_sources,
    audit_tree_nodes,
)
from services.audit.domain import merkle, persons
from services.audit.domain.log import missing_ranges
from services.audit.domain.persons import PersonHead


@dataclass(frozen=True)
class SearchFilter:
    beneficiary_id: str | None = None
    actor: str | None = None
    organisation: str | None = None
    action: str | None = None  # a trailing "." matches every action under it ("signal.")
    outcome: str | None = None
    purpose: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditLogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- searching ---------------------------------------------------------------------------
    def _where(self, query, where: SearchFilter):
        c = audit_log.c
        if where.beneficiary_id:
            query = query.where(c.beneficiary_id == where.beneficiary_id)
        if where.actor:
            query = query.where(c.actor_subject == where.actor)
        if where.organisation:
            query = query.where(c.actor_organisation == where.organisation)
        if where.action:
            query = query.where(
                c.action.startswith(where.action, autoescape=True) if where.action.endswith(".")
                else c.action == where.action
            )
        if where.outcome:
            query = query.where(c.outcome == where.outcome)
        if where.purpose:
            query = query.where(c.purpose == where.purpose)
        if where.since:
            query = query.where(c.occurred_at >= where.since)
        if where.until:
            query = query.where(c.occurred_at < where.until)
        return query

    def search(self, where: SearchFilter, before: int | None, limit: int) -> list[dict[str, Any]]:
        """Newest first; ``before`` is the cursor: only entries with a smaller index."""
        query = self._where(select(audit_log.c.leaf_index, audit_log.c.canonical), where)
        if before is not None:
            query = query.where(audit_log.c.leaf_index < before)
        query = query.where(audit_log.c.leaf_index.is_not(None))
        rows = self.session.execute(query.order_by(audit_log.c.leaf_index.desc()).limit(limit))
        return [{"index": r.leaf_index, "canonical": r.canonical} for r in rows]

    def iter_matching(self, where: SearchFilter, chunk: int = 5000) -> Iterator[str]:
        """Every matching entry's canonical line, oldest first (exports)."""
        after = -1
        while True:
            query = self._where(select(audit_log.c.leaf_index, audit_log.c.canonical), where)
            rows = self.session.execute(
                query.where(audit_log.c.leaf_index > after).order_by(audit_log.c.leaf_index).limit(chunk)
            ).all()
            if not rows:
                return
            for row in rows:
                yield row.canonical
            after = rows[-1].leaf_index

    def entry(self, index: int) -> dict[str, Any] | None:
        row = self.session.execute(
            select(audit_log.c.canonical, audit_log.c.leaf_hash).where(audit_log.c.leaf_index == index)
        ).one_or_none()
        return None if row is None else {"canonical": row.canonical, "leaf_hash": row.leaf_hash}

    def person_entries(self, person_id: str, up_to: int) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(audit_log.c.leaf_index, audit_log.c.canonical, audit_log.c.leaf_hash)
            .where(audit_log.c.beneficiary_id == person_id, audit_log.c.leaf_index < up_to)
            .order_by(audit_log.c.leaf_index)
        )
        return [{"index": r.leaf_index, "canonical": r.canonical, "leaf_hash": r.leaf_hash} for r in rows]

    # -- the tree ----------------------------------------------------------------------------
    def head_size(self) -> int:
        return self.session.execute(select(audit_head.c.size).where(audit_head.c.id == 1)).scalar() or 0

    def node_reader(self, keys: set[merkle.NodeKey]) -> merkle.NodeReader:
        """Fetch every node a proof needs in one round trip (leaves and inner nodes together)."""
        leaves = sorted(index for level, index in keys if level == 0)
        inner = sorted((level, index) for level, index in keys if level > 0)
        parts = []
        if leaves:
            parts.append(select(literal(0).label("level"), audit_log.c.leaf_index.label("idx"),
                                audit_log.c.leaf_hash.label("hash")).where(audit_log.c.leaf_index.in_(leaves)))
        if inner:
            nodes = audit_tree_nodes.c
            parts.append(select(nodes.level, nodes.idx, nodes.hash).where(tuple_(nodes.level, nodes.idx).in_(inner)))
        found: dict[merkle.NodeKey, bytes] = {}
        if parts:
            query = parts[0] if len(parts) == 1 else union_all(*parts)
            found = {(r.level, r.idx): r.hash for r in self.session.execute(query)}

        def read(level: int, index: int) -> bytes:
            return found[(level, index)]

        return read

    def prove(self, plan: list[tuple[int, int]]) -> list[bytes]:
        return merkle.build_proof(plan, self.node_reader(merkle.needed_nodes(plan)))

    def leaf_lines(self, up_to: int | None = None, chunk: int = 50000) -> Iterator[tuple[bytes, bytes | None]]:
        """Every entry's canonical bytes and stored leaf hash, in the order of the rows' index,
        streamed (a server-side cursor on PostgreSQL) ``chunk`` rows at a time."""
        c = audit_log.c
        query = select(c.canonical, c.leaf_hash).where(c.leaf_index.is_not(None))
        if up_to is not None:
            query = query.where(c.leaf_index < up_to)
        result = self.session.execute(query.order_by(c.leaf_index).execution_options(yield_per=chunk))
        for canonical, leaf_hash in result:
            yield canonical.encode(), leaf_hash

    # -- checkpoints ---------------------------------------------------------------------------
    def latest_checkpoint(self) -> dict[str, Any] | None:
        row = self.session.execute(
            select(audit_checkpoints).order_by(audit_checkpoints.c.size.desc()).limit(1)
        ).mappings().one_or_none()
        return dict(row) if row else None

    def checkpoint(self, size: int) -> dict[str, Any] | None:
        row = self.session.execute(
            select(audit_checkpoints).where(audit_checkpoints.c.size == size)
        ).mappings().one_or_none()
        return dict(row) if row else None

    def checkpoints(self) -> list[dict[str, Any]]:
        rows = self.session.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.size)).mappings()
        return [dict(r) for r in rows]

    def person_heads(self) -> list[PersonHead]:
        c = audit_person_heads.c
        rows = self.session.execute(select(c.person_id, c.count, c.last_index, c.head))
        return persons.by_id(PersonHead(*row) for row in rows)

    # -- sources and signals -----------------------------------------------------------------
    def sequences_above(self, source: str, contiguous: int) -> list[int]:
        return list(self.session.execute(
            select(audit_log.c.source_sequence).where(
                audit_log.c.source == source, audit_log.c.source_sequence > contiguous
            )
        ).scalars())

    def gaps(self) -> list[dict[str, Any]]:
        report = []
        for row in self.session.execute(select(audit_sources).order_by(audit_sources.c.source)):
            ranges = missing_ranges(row.contiguous, row.highest, self.sequences_above(row.source, row.contiguous))
            report.append({
                "source": row.source,
                "complete_up_to": row.contiguous,
                "highest": row.highest,
                "missing": [{"from": a, "to": b} for a, b in ranges],
            })
        return report

    def pairs_with_writes(self, pairs: set[tuple[str, str]], since: datetime) -> set[tuple[str, str]]:
        if not pairs:
            return set()
        c = audit_log.c
        rows = self.session.execute(
            select(c.actor_organisation, c.beneficiary_id).distinct().where(
                tuple_(c.actor_organisation, c.beneficiary_id).in_(sorted(pairs)),
                c.crude.in_(("C", "U")),
                c.occurred_at >= since,
            )
        )
        return {(r.actor_organisation, r.beneficiary_id) for r in rows}

    def outside_caseload(self, subject: str, since: datetime) -> tuple[set[str], bool]:
        """Persons this subject read outside their caseload since then, and whether a burst
        signal was already raised for them in that time."""
        c = audit_log.c
        persons = set(self.session.execute(
            select(c.beneficiary_id).distinct().where(
                c.actor_subject == subject, c.action == "signal.no_relationship", c.occurred_at >= since
            )
        ).scalars())
        bursts = self.session.execute(
            select(func.count()).select_from(audit_log).where(
                c.actor_subject == subject, c.action == "signal.burst", c.occurred_at >= since
            )
        ).scalar_one()
        return {p for p in persons if p}, bursts > 0
