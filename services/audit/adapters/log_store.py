"""Writing the log: one batch of events per transaction, under a compare-and-swap on the head.

The head row is locked (``FOR UPDATE`` on PostgreSQL; SQLite has one writer at a time) and
updated only where its size is still the one read, so two appenders can never give two events
the same index: the loser's transaction fails and its batch is delivered again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import String, Table, any_, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from services.audit.adapters.orm import (
    audit_checkpoints,
    audit_head,
    audit_log,
    audit_person_heads,
    audit_sources,
    audit_tree_nodes,
)
from services.audit.domain import checkpoints, persons
from services.audit.domain.entries import AuditEvent
from services.audit.domain.log import Appended, Head, SourceState, advance, append
from services.audit.domain.persons import PersonHead, PersonIndex

# The columns of a person head, in PersonHead's order (read as plain tuples: a row's ``count``
# attribute would be the tuple method).
_PERSON_HEAD = (
    audit_person_heads.c.person_id,
    audit_person_heads.c.count,
    audit_person_heads.c.last_index,
    audit_person_heads.c.head,
)


class HeadMoved(RuntimeError):
    """Another appender moved the head since it was read: this batch must be tried again."""


class LogStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the head ----------------------------------------------------------------------------
    def lock_head(self) -> tuple[Head, int, datetime | None]:
        row = self.session.execute(
            select(audit_head).where(audit_head.c.id == 1).with_for_update()
        ).one_or_none()
        if row is None:
            self.session.execute(insert(audit_head).values(
                id=1, size=0, frontier=b"", last_leaf=bytes(32), checkpoint_size=0, checkpoint_at=None
            ))
            return Head(0, []), 0, None
        return Head.unpack(row.size, row.frontier, row.last_leaf), row.checkpoint_size, row.checkpoint_at

    def _swap_head(self, old_size: int, head: Head, **extra) -> None:
        result = self.session.execute(
            update(audit_head)
            .where(audit_head.c.id == 1, audit_head.c.size == old_size)
            .values(size=head.size, frontier=head.pack(), last_leaf=head.last_leaf, **extra)
        )
        if result.rowcount != 1:
            raise HeadMoved(f"the log head is no longer at size {old_size}")

    # -- appending -----------------------------------------------------------------------------
    def known_event_ids(self, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        return set(self.session.execute(
            select(audit_log.c.event_id).where(self._among(audit_log.c.event_id, event_ids))
        ).scalars())

    def _among(self, column, values: list[str]):
        """``column IN values``; on PostgreSQL one array parameter, not one per value."""
        if self.session.connection().dialect.name == "postgresql":
            return column == any_(bindparam("values", list(values), type_=ARRAY(String)))
        return column.in_(values)

    def person_heads(self, ids: Iterable[str]) -> dict[str, PersonHead]:
        ids = sorted(set(ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(*_PERSON_HEAD).where(self._among(audit_person_heads.c.person_id, ids))
        )
        return {row[0]: PersonHead(*row) for row in rows}

    def append(self, head: Head, events: list[AuditEvent], now: datetime,
               index: PersonIndex | None = None) -> Appended:
        """Place ``events`` after ``head`` (locked by the caller) and store everything.

        With an ``index`` that is at ``head``, the touched persons' heads come from it rather
        than from the database, and it moves on with the batch."""
        touched = {e.beneficiary_id for e in events if e.beneficiary_id}
        if index is not None and index.is_at(head.size, head.last_leaf):
            known = index.heads_of(touched)
        else:
            known = self.person_heads(touched)
        appended = append(head, events, known, now)
        if not appended.entries:
            return appended
        self._bulk_insert(audit_log, [
            {
                "event_id": e.event.event_id,
                "source": e.event.source,
                "source_sequence": e.event.source_sequence,
                "event_type": e.event.event_type,
                "occurred_at": e.event.occurred_at,
                "received_at": now,
                "beneficiary_id": e.event.beneficiary_id,
                "actor_subject": e.event.body["actor"]["subject"],
                "actor_organisation": e.event.body["actor"]["organisation"],
                "action": e.event.body["action"],
                "outcome": e.event.body["outcome"],
                "canonical": e.canonical.decode(),
                "leaf_index": e.index,
                "leaf_hash": e.leaf_hash,
                "crude": e.event.body["crude"],
                "purpose": e.event.body["purpose"],
                "person_seq": e.person.seq if e.person else None,
            }
            for e in appended.entries
        ])
        if appended.nodes:
            self._bulk_insert(audit_tree_nodes, [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in appended.nodes])
        self._store_person_heads(known, appended.persons)
        assert appended.head is not None
        self._swap_head(head.size, appended.head)
        if index is not None:
            index.advance((head.size, head.last_leaf), (appended.head.size, appended.head.last_leaf),
                          appended.persons)
        return appended

    def _bulk_insert(self, table: Table, rows: list[dict]) -> None:
        """COPY on PostgreSQL (a batch of rows in one round trip, no per-row statement); an
        executemany elsewhere. Times must be aware: COPY skips the column types' checks."""
        if not rows:
            return
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            connection.execute(insert(table), rows)
            return
        columns = list(rows[0])
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])

    def _store_person_heads(self, before: dict[str, PersonHead], after: dict[str, PersonHead]) -> None:
        if not after:
            return
        rows = [{"person_id": h.person_id, "count": h.count, "last_index": h.last_index, "head": h.head}
                for h in after.values()]
        moved = [pid for pid in after if pid in before]
        if self.session.connection().dialect.name == "postgresql":
            if moved:  # the heads table is state, not log: replace the moved heads in two trips
                self.session.execute(delete(audit_person_heads).where(self._among(audit_person_heads.c.person_id, moved)))
            self._bulk_insert(audit_person_heads, rows)
            return
        new = [r for r in rows if r["person_id"] not in before]
        if new:
            self.session.execute(insert(audit_person_heads), new)
        if moved:
            self.session.execute(
                update(audit_person_heads)
                .where(audit_person_heads.c.person_id == bindparam("pid"))
                .values(count=bindparam("n"), last_index=bindparam("last"), head=bindparam("h")),
                [{"pid": h.person_id, "n": h.count, "last": h.last_index, "h": h.head}
                 for pid, h in after.items() if pid in before],
            )

    # -- source sequences ----------------------------------------------------------------------
    def next_own_sequence(self, source: str, count: int) -> list[int]:
        """Gap-free numbers for events this service writes itself (the audit of the audit)."""
        state = self._source_state(source) or SourceState(source, 0, 0)
        return list(range(state.highest + 1, state.highest + 1 + count))

    def _source_state(self, source: str) -> SourceState | None:
        row = self.session.execute(
            select(audit_sources.c.contiguous, audit_sources.c.highest).where(audit_sources.c.source == source)
        ).one_or_none()
        return None if row is None else SourceState(source, row.contiguous, row.highest)

    def track_sources(self, events: list[AuditEvent]) -> list[SourceState]:
        """Move each source's complete-up-to mark; returns the sources that still have gaps."""
        by_source: dict[str, set[int]] = {}
        for event in events:
            if event.source_sequence is not None:
                by_source.setdefault(event.source, set()).add(event.source_sequence)
        gapped = []
        for source, numbers in sorted(by_source.items()):
            stored = self._source_state(source)
            state = stored or SourceState(source, 0, 0)
            above = {n for n in numbers if n > state.contiguous}
            if state.highest > state.contiguous:
                # A gap was open: what arrived before this batch above the mark counts too.
                # (Without one, nothing above the mark was stored before this batch.)
                above |= set(self.session.execute(
                    select(audit_log.c.source_sequence).where(
                        audit_log.c.source == source, audit_log.c.source_sequence > state.contiguous
                    )
                ).scalars())
            new = advance(state, above)
            values = {"contiguous": new.contiguous, "highest": new.highest}
            if stored is None:
                self.session.execute(insert(audit_sources).values(source=source, **values))
            else:
                self.session.execute(update(audit_sources).where(audit_sources.c.source == source).values(**values))
            if new.highest > new.contiguous:
                gapped.append(new)
        return gapped

    # -- checkpoints ---------------------------------------------------------------------------
    def all_person_heads(self) -> list[PersonHead]:
        rows = self.session.execute(select(*_PERSON_HEAD))
        return persons.by_id(PersonHead(*row) for row in rows)

    def checkpoint(self, head: Head, key: Ed25519PrivateKey, origin: str, now: datetime,
                   index: PersonIndex | None = None) -> str:
        """Sign and store a checkpoint of ``head`` (locked by the caller). The person index
        comes from ``index`` when it is at ``head``, else from the database (and fills it)."""
        if index is None:
            index = PersonIndex()
        if not index.is_at(head.size, head.last_leaf):
            index.load(head.size, head.last_leaf, self.all_person_heads())
        checkpoint = checkpoints.Checkpoint(origin, head.size, head.root(), len(index), index.root())
        note = checkpoints.sign(checkpoint, key)
        self.session.execute(insert(audit_checkpoints).values(
            size=checkpoint.size, root=checkpoint.root, persons=checkpoint.persons,
            persons_root=checkpoint.persons_root, note=note, created_at=now,
        ))
        self.session.execute(
            update(audit_head).where(audit_head.c.id == 1).values(checkpoint_size=head.size, checkpoint_at=now)
        )
        return note
