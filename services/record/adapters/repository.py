"""Reading and writing the journey: sealed entries, what replaced what, and the read models."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from services.record.adapters.orm import entries, open_alerts, people, replacements, threads
from services.record.adapters.sealing import open_entry, seal_entry
from services.record.domain.entries import Author, Entry
from shared.consent.vocabulary import CATEGORIES
from shared.crypto import Sealer
from shared.db.bulk import among_parameter
from shared.db.statements import DirectStatement, insert_ignoring_duplicates


@dataclass(frozen=True)
class Thread:
    thread_id: str
    beneficiary_id: str
    kind: str
    category: str
    parent_id: str | None
    head_entry_id: str
    state_entry_id: str
    open: bool
    voided: bool
    opened_at: datetime
    changed_at: datetime


@dataclass(frozen=True)
class PersonState:
    beneficiary_id: str
    last_met_at: datetime | None
    last_met_entry_id: str | None
    last_attempt_at: datetime | None
    last_attempt_entry_id: str | None
    referent_entry_id: str | None


@dataclass(frozen=True)
class TimelinePage:
    entries: list[Entry]
    next_after: tuple[datetime, str] | None


CATEGORIES_SET = frozenset(CATEGORIES)
_TIMELINE_COLUMNS = (entries.c.id, entries.c.kind, entries.c.category, entries.c.thread_id,
                     entries.c.supersedes, entries.c.occurred_at, entries.c.recorded_at,
                     entries.c.vocabulary_version, entries.c.sealed)


@lru_cache(maxsize=64)
def _timeline_statement(some_categories: bool, kinds: bool, history: bool, since: bool, until: bool,
                        after: bool, newest_first: bool, dialect: str) -> DirectStatement:
    """The timeline query of one shape of filters, built once: every read of that shape runs
    the same statement with its own values (and PostgreSQL prepares it once per connection).
    A reader who may see every category needs no filter on them (and no list to expand); on
    PostgreSQL the lists are one array parameter each (``= ANY``)."""
    e = entries.c
    query = select(*_TIMELINE_COLUMNS).where(e.beneficiary_id == bindparam("beneficiary_id"))
    if some_categories:
        query = query.where(among_parameter(dialect, e.category, "categories"))
    if kinds:
        query = query.where(among_parameter(dialect, e.kind, "kinds"))
    if not history:
        replaced = select(replacements.c.entry_id).where(
            replacements.c.beneficiary_id == bindparam("beneficiary_id"))
        query = query.where(e.kind != "void", ~e.id.in_(replaced))
    if since:
        query = query.where(e.occurred_at >= bindparam("since"))
    if until:
        query = query.where(e.occurred_at < bindparam("until"))
    if after:
        at, entry_id = bindparam("after_at"), bindparam("after_id")
        if newest_first:
            query = query.where(or_(e.occurred_at < at, and_(e.occurred_at == at, e.id < entry_id)))
        else:
            query = query.where(or_(e.occurred_at > at, and_(e.occurred_at == at, e.id > entry_id)))
    order = (e.occurred_at.desc(), e.id.desc()) if newest_first else (e.occurred_at, e.id)
    return DirectStatement(query.order_by(*order).limit(bindparam("limit")))


PERSON_COLUMNS = (people.c.beneficiary_id, people.c.last_met_at, people.c.last_met_entry_id,
                   people.c.last_attempt_at, people.c.last_attempt_entry_id, people.c.referent_entry_id)
_PERSON = select(*PERSON_COLUMNS).where(people.c.beneficiary_id == bindparam("beneficiary_id"))
_PERSON_FOR_UPDATE = _PERSON.with_for_update()


@dataclass
class Changed:
    """What one unit of work changed in a person's journey: entries added, entries replaced
    (voided or superseded), and the data key the entries were sealed with, if it was used."""

    key: bytes | None = None
    added: list[Entry] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)


_HEAD = select(people.c.timeline_head).where(people.c.beneficiary_id == bindparam("beneficiary_id"))


class JourneyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        # Per person, what this unit of work changed: the head of their timeline follows at the
        # commit (RecordUnitOfWork.commit).
        self.changed: dict[str, Changed] = {}

    # -- the head of the timeline (read model, sealed) ----------------------------------------
    def timeline_head(self, beneficiary_id: str) -> bytes | None:
        return self.session.connection().execute(_HEAD, {"beneficiary_id": beneficiary_id}).scalar()

    def save_timeline_head(self, beneficiary_id: str, sealed: bytes | None) -> None:
        self.session.execute(update(people).where(people.c.beneficiary_id == beneficiary_id)
                             .values(timeline_head=sealed))

    # -- entries -------------------------------------------------------------------------------
    def add(self, entry: Entry, data_key: bytes) -> None:
        document = {
            "author": {"subject": entry.author.subject, "organisation": entry.author.organisation,
                       "profession": entry.author.profession},
            "body": entry.body,
        }
        self.session.execute(insert(entries).values(
            id=entry.id, beneficiary_id=entry.beneficiary_id, kind=entry.kind,
            category=entry.category, thread_id=entry.thread_id, supersedes=entry.supersedes,
            occurred_at=entry.occurred_at, recorded_at=entry.recorded_at,
            vocabulary_version=entry.vocabulary_version,
            sealed=seal_entry(data_key, entry.beneficiary_id, entry.id, document),
        ))
        changed = self.changed.setdefault(entry.beneficiary_id, Changed())
        changed.key = data_key
        changed.added.append(entry)

    def replace(self, entry: Entry, how: str, by: Entry) -> None:
        self.session.execute(insert(replacements).values(
            entry_id=entry.id, beneficiary_id=entry.beneficiary_id, how=how, by_entry_id=by.id))
        self.changed.setdefault(entry.beneficiary_id, Changed()).replaced.add(entry.id)

    @staticmethod
    def _entry(row: Any, data_key: bytes | Sealer) -> Entry:
        document = open_entry(data_key, row.beneficiary_id, row.id, row.sealed)
        author = document["author"]
        return Entry.stored(
            beneficiary_id=row.beneficiary_id, kind=row.kind, category=row.category,
            occurred_at=row.occurred_at,
            author=Author.stored(author["subject"], author["organisation"], author["profession"]),
            vocabulary_version=row.vocabulary_version, body=document["body"],
            thread_id=row.thread_id, supersedes=row.supersedes, id=row.id,
            recorded_at=row.recorded_at,
        )

    def get(self, beneficiary_id: str, entry_id: str, data_key: bytes) -> Entry | None:
        row = self.session.execute(select(entries).where(
            entries.c.id == entry_id, entries.c.beneficiary_id == beneficiary_id)).first()
        return None if row is None else self._entry(row, data_key)

    def many(self, beneficiary_id: str, entry_ids: Collection[str], data_key: bytes) -> dict[str, Entry]:
        if not entry_ids:
            return {}
        rows = self.session.execute(select(entries).where(
            entries.c.beneficiary_id == beneficiary_id, entries.c.id.in_(list(entry_ids))))
        sealer = Sealer(data_key)
        return {row.id: self._entry(row, sealer) for row in rows}

    def of_kind(self, beneficiary_id: str, kinds: Collection[str], data_key: bytes, *,
                current_only: bool = True) -> list[Entry]:
        """A person's entries of these kinds, oldest first (for the small folds: care team)."""
        query = select(entries).where(entries.c.beneficiary_id == beneficiary_id,
                                      entries.c.kind.in_(list(kinds)))
        if current_only:
            query = query.where(~entries.c.id.in_(
                select(replacements.c.entry_id).where(replacements.c.beneficiary_id == beneficiary_id)))
        rows = self.session.execute(query.order_by(entries.c.occurred_at, entries.c.recorded_at))
        sealer = Sealer(data_key)
        return [self._entry(row, sealer) for row in rows]

    def in_thread(self, thread_id: str, data_key: bytes) -> list[Entry]:
        rows = self.session.execute(select(entries).where(entries.c.thread_id == thread_id)
                                    .order_by(entries.c.recorded_at, entries.c.id))
        sealer = Sealer(data_key)
        return [self._entry(row, sealer) for row in rows]

    def replaced(self, beneficiary_id: str, entry_ids: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
        """entry id → (superseded | voided, the id of the entry that replaced it)."""
        query = select(replacements).where(replacements.c.beneficiary_id == beneficiary_id)
        if entry_ids is not None:
            ids = list(entry_ids)
            if not ids:
                return {}
            query = query.where(replacements.c.entry_id.in_(ids))
        return {row.entry_id: (row.how, row.by_entry_id) for row in self.session.execute(query)}

    def timeline(
        self,
        beneficiary_id: str,
        data_key: bytes,
        *,
        categories: Collection[str],
        kinds: Collection[str] | None,
        since: datetime | None,
        until: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
        newest_first: bool,
        history: bool,
    ) -> TimelinePage:
        every_category = CATEGORIES_SET <= set(categories)
        statement = _timeline_statement(not every_category, bool(kinds), history, since is not None,
                                        until is not None, after is not None, newest_first,
                                        self.session.get_bind().dialect.name)
        params: dict[str, Any] = {"beneficiary_id": beneficiary_id, "limit": limit + 1}
        if not every_category:
            params["categories"] = sorted(categories)
        if kinds:
            params["kinds"] = sorted(kinds)
        if since is not None:
            params["since"] = since
        if until is not None:
            params["until"] = until
        if after is not None:
            params["after_at"], params["after_id"] = after
        rows = statement.rows(self.session.connection(), params)
        more = len(rows) > limit
        rows = rows[:limit]
        sealer = Sealer(data_key)
        found = []
        for entry_id, kind, category, thread_id, supersedes, occurred_at, recorded_at, version, sealed in rows:
            document = open_entry(sealer, beneficiary_id, entry_id, sealed)
            author = document["author"]
            found.append(Entry.stored(
                beneficiary_id=beneficiary_id, kind=kind, category=category, occurred_at=occurred_at,
                author=Author.stored(author["subject"], author["organisation"], author["profession"]),
                vocabulary_version=version, body=document["body"], thread_id=thread_id,
                supersedes=supersedes, id=entry_id, recorded_at=recorded_at))
        return TimelinePage(found, (rows[-1][5], rows[-1][0]) if more and rows else None)

    # -- threads -------------------------------------------------------------------------------
    def thread(self, beneficiary_id: str, thread_id: str, *, for_update: bool = False) -> Thread | None:
        query = select(threads).where(threads.c.thread_id == thread_id,
                                      threads.c.beneficiary_id == beneficiary_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return None if row is None else Thread(**row._mapping)

    def threads_of(self, beneficiary_id: str, kinds: Collection[str], *, open_only: bool = False,
                   parent_ids: Collection[str] | None = None) -> list[Thread]:
        query = select(threads).where(threads.c.beneficiary_id == beneficiary_id,
                                      threads.c.kind.in_(list(kinds)), threads.c.voided.is_(False))
        if open_only:
            query = query.where(threads.c.open.is_(True))
        if parent_ids is not None:
            query = query.where(threads.c.parent_id.in_(list(parent_ids)))
        rows = self.session.execute(query.order_by(threads.c.opened_at, threads.c.thread_id))
        return [Thread(**row._mapping) for row in rows]

    def start_thread(self, entry: Entry, kind: str, *, open: bool, parent_id: str | None = None) -> None:
        assert entry.thread_id is not None
        self.session.execute(insert(threads).values(
            thread_id=entry.thread_id, beneficiary_id=entry.beneficiary_id, kind=kind,
            category=entry.category, parent_id=parent_id, head_entry_id=entry.id,
            state_entry_id=entry.id, open=open, voided=False, opened_at=entry.occurred_at,
            changed_at=entry.recorded_at))

    def move_thread(self, thread_id: str, **values: Any) -> None:
        self.session.execute(update(threads).where(threads.c.thread_id == thread_id).values(**values))

    # -- people --------------------------------------------------------------------------------
    def person(self, beneficiary_id: str, *, for_update: bool = False) -> PersonState | None:
        row = self.session.connection().execute(
            _PERSON_FOR_UPDATE if for_update else _PERSON, {"beneficiary_id": beneficiary_id}).first()
        return None if row is None else PersonState(*row)

    def lock_person(self, beneficiary_id: str, now: datetime) -> PersonState:
        """The person's row, created if need be and locked for this transaction: every write on
        one person goes through here, so two writes on the same person never interleave."""
        self.session.execute(insert_ignoring_duplicates(self.session, people, {
            "beneficiary_id": beneficiary_id, "updated_at": now}))
        found = self.person(beneficiary_id, for_update=True)
        assert found is not None
        return found

    def update_person(self, beneficiary_id: str, now: datetime, **values: Any) -> None:
        self.session.execute(update(people).where(people.c.beneficiary_id == beneficiary_id)
                             .values(updated_at=now, **values))

    def people_states(self, beneficiary_ids: Collection[str]) -> dict[str, PersonState]:
        if not beneficiary_ids:
            return {}
        rows = self.session.execute(select(*PERSON_COLUMNS).where(
            people.c.beneficiary_id.in_(list(beneficiary_ids))))
        return {row[0]: PersonState(*row) for row in rows}

    def open_step_counts(self, beneficiary_ids: Collection[str], categories_of: dict[str, frozenset[str]]) -> dict[str, int]:
        """Open steps per person, counting only steps of categories the reader may see there."""
        if not beneficiary_ids:
            return {}
        rows = self.session.execute(
            select(threads.c.beneficiary_id, threads.c.category, func.count())
            .where(threads.c.beneficiary_id.in_(list(beneficiary_ids)), threads.c.kind == "step",
                   threads.c.open.is_(True), threads.c.voided.is_(False))
            .group_by(threads.c.beneficiary_id, threads.c.category))
        counts: dict[str, int] = {}
        for beneficiary_id, category, count in rows:
            if category in categories_of.get(beneficiary_id, frozenset()):
                counts[beneficiary_id] = counts.get(beneficiary_id, 0) + count
        return counts

    def forget_person(self, beneficiary_id: str) -> None:
        """The read models of an erased person (their entries stay, sealed for good)."""
        from sqlalchemy import delete

        for table in (threads, people, open_alerts):
            self.session.execute(delete(table).where(table.c.beneficiary_id == beneficiary_id))

    # -- alerts --------------------------------------------------------------------------------
    def alert_changed(self, alert_id: str, beneficiary_id: str, is_open: bool, at: datetime) -> None:
        """Apply an ``alert.*`` event; an older event never undoes a newer one."""
        current = self.session.execute(
            select(open_alerts.c.changed_at).where(open_alerts.c.alert_id == alert_id).with_for_update()
        ).scalar()
        if current is None:
            self.session.execute(insert_ignoring_duplicates(self.session, open_alerts, {
                "alert_id": alert_id, "beneficiary_id": beneficiary_id, "open": is_open,
                "changed_at": at}))
        elif at >= current:
            self.session.execute(update(open_alerts).where(open_alerts.c.alert_id == alert_id)
                                 .values(open=is_open, changed_at=at))

    def open_alert_counts(self, beneficiary_ids: Collection[str]) -> dict[str, int]:
        if not beneficiary_ids:
            return {}
        rows = self.session.execute(
            select(open_alerts.c.beneficiary_id, func.count())
            .where(open_alerts.c.beneficiary_id.in_(list(beneficiary_ids)), open_alerts.c.open.is_(True))
            .group_by(open_alerts.c.beneficiary_id))
        return dict(rows.all())
