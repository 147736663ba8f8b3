"""Reading the journey: the timeline, the case manager's summary, the caseload, and the
person's own view. Only the categories the reader may see are read at all; the rest is left out
without a trace (no counts, no gaps). Every read writes its audit event in its transaction."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import and_, or_, select

from services.record.adapters.orm import projection
from services.record.adapters.repository import PersonState
from services.record.adapters.unit_of_work import PersonAtRead, RecordUnitOfWork
from services.record.domain import team, timeline_head
from services.record.domain.entries import Entry
from services.record.domain.views import (
    Reader,
    decode_cursor,
    encode_cursor,
    permitted_filter,
    show,
)
from services.record.handlers.common import (
    NotVisible,
    RecordContext,
    Verdict,
    audit,
    judge,
    refuse,
)
from services.record.handlers.heads import opened_head
from shared.auth import Principal
from shared.consent.vocabulary import CATEGORIES
from shared.vocabularies import Vocabulary


@dataclass(frozen=True)
class TimelineQuery:
    beneficiary_id: str
    categories: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: int = 100
    order: str = "desc"
    history: bool = False
    purpose: str = "care_coordination"
    language: str = "fr"

    @property
    def first_page(self) -> bool:
        """The read everyone makes first, which the head of the timeline can answer: newest
        first, from the start, every kind, any time."""
        return (self.order == "desc" and self.cursor is None and not self.kinds and not self.history
                and self.since is None and self.until is None)


def _see(uow: RecordUnitOfWork, ctx: RecordContext, principal: Principal, request_id: str | None,
         beneficiary_id: str, *, action: str, purpose: str, now: datetime,
         own: bool, at_read: PersonAtRead | None = None) -> tuple[frozenset[str], Verdict | None]:
    """The categories the reader may read of this person; refused (and audited) when none."""
    if own:
        return frozenset(CATEGORIES), None
    if at_read is not None:
        verdict = judge(uow, ctx, principal, beneficiary_id, "read", CATEGORIES, purpose, now,
                        state=at_read.consent, teams=at_read.teams)
    else:
        verdict = judge(uow, ctx, principal, beneficiary_id, "read", CATEGORIES, purpose, now)
    if not verdict.permitted:
        refuse(uow, ctx, principal, request_id, action=action, crude="R",
               beneficiary_id=beneficiary_id, categories=(), purpose=purpose, verdict=verdict,
               now=now)
    return verdict.permitted, verdict


def _last_seen(uow: RecordUnitOfWork, vocabulary: Vocabulary, person: PersonState | None,
               key: bytes | None, reader: Reader,
               loaded: dict[str, Entry] | None = None,
               author: tuple[str | None, str | None] | None = None) -> dict[str, Any] | None:
    """``loaded``: entries already read; ``author``: the last met contact's organisation and
    profession when the caller has them already (from the timeline's head)."""
    if "contacts" not in reader.categories:
        return None
    if person is None or key is None:
        return {"at": None, "organisation": None, "profession": None, "masked": False,
                "last_attempt_at": None}
    organisation = profession = None
    masked = False
    if person.last_met_entry_id:
        if author is None:
            met = (loaded or {}).get(person.last_met_entry_id) or uow.journey.get(
                person.beneficiary_id, person.last_met_entry_id, key)
            if met is not None:
                author = (met.author.organisation, met.author.profession)
        if author is not None:
            if reader.sees_author(author[1]):
                organisation, profession = author
            else:
                masked = True
    return {"at": person.last_met_at, "organisation": organisation, "profession": profession,
            "masked": masked, "last_attempt_at": person.last_attempt_at}


def read_timeline(ctx: RecordContext, principal: Principal, query: TimelineQuery,
                  request_id: str | None, *, own: bool = False) -> dict[str, Any]:
    now = ctx.clock()
    after = decode_cursor(query.cursor) if query.cursor else None
    with ctx.uow(read=True) as uow:
        # The person's consent, data key and read model, and the reader's teams: one statement.
        at_read = uow.person_at_read(query.beneficiary_id, principal.subject)
        permitted, verdict = _see(uow, ctx, principal, request_id, query.beneficiary_id,
                                  action="timeline.read", purpose=query.purpose, now=now, own=own,
                                  at_read=at_read)
        categories = permitted_filter(query.categories, permitted)
        reader = Reader(permitted, query.language, own_record=own)
        key = ctx.keys.unwrap(at_read.wrapped_key, query.beneficiary_id)
        items: list[dict[str, Any]] = []
        shown: dict[str, Entry] = {}
        next_cursor = None
        met_author = None
        from_head = None
        if key is not None and categories and at_read.timeline_head is not None and query.first_page:
            head = opened_head(key, query.beneficiary_id, at_read.timeline_head)
            person = at_read.person
            if head is not None:
                from_head = timeline_head.first_page(
                    head, ctx.vocabulary, categories, reader, query.limit,
                    author_of=person.last_met_entry_id if person else None)
        if from_head is not None:
            # Each entry's JSON as it stands in the head: written into the answer as it is.
            items = [orjson.Fragment(text) for text in from_head.items]
            if from_head.next_after:
                next_cursor = encode_cursor(*from_head.next_after)
            if from_head.author is not None:
                met_author = from_head.author[:2]
        elif key is not None and categories:
            page = uow.journey.timeline(
                query.beneficiary_id, key, categories=categories, kinds=query.kinds,
                since=query.since, until=query.until, after=after, limit=query.limit,
                newest_first=query.order == "desc", history=query.history)
            replaced = (uow.journey.replaced(query.beneficiary_id, [e.id for e in page.entries])
                        if query.history else {})
            items = [show(ctx.vocabulary, entry, reader, replaced_by=replaced) for entry in page.entries]
            shown = {entry.id: entry for entry in page.entries}
            if page.next_after:
                next_cursor = encode_cursor(*page.next_after)
        last_seen = _last_seen(uow, ctx.vocabulary, at_read.person, key, reader, shown, met_author)
        if from_head is not None:
            shown_ids, shown_categories = from_head.ids, from_head.categories
        else:
            shown_ids, shown_categories = [i["id"] for i in items], {i["category"] for i in items}
        audit(uow, principal, request_id, action="timeline.read" if not own else "timeline.read_own",
              crude="R", beneficiary_id=query.beneficiary_id,
              categories=shown_categories or categories,
              entry_ids=shown_ids, purpose=query.purpose, verdict=verdict)
        uow.commit()
    return {"beneficiary_id": query.beneficiary_id, "items": items, "next_cursor": next_cursor,
            "last_seen": last_seen, "categories": sorted(permitted),
            "vocabulary_version": ctx.vocabulary.version}


def read_summary(ctx: RecordContext, principal: Principal, beneficiary_id: str, *, purpose: str,
                 language: str, request_id: str | None, own: bool = False) -> dict[str, Any]:
    now = ctx.clock()
    today = now.date()
    with ctx.uow(read=True) as uow:
        permitted, verdict = _see(uow, ctx, principal, request_id, beneficiary_id,
                                  action="summary.read", purpose=purpose, now=now, own=own)
        reader = Reader(permitted, language, own_record=own)
        key = ctx.keys.find(uow.session, beneficiary_id)
        journey = uow.journey
        shown: list[Entry] = []
        summary: dict[str, Any] = {
            "beneficiary_id": beneficiary_id, "categories": sorted(permitted),
            "open_steps": [], "open_steps_by_status": {}, "active_episodes": [],
            "last_transition": None, "referent": None, "care_team": [],
            "last_seen": None, "open_alerts": None,
        }
        if key is not None:
            threads = [t for t in journey.threads_of(beneficiary_id, ["step", "episode", "transition"])
                       if t.category in permitted]
            open_steps = [t for t in threads if t.kind == "step" and t.open]
            episodes_open = [t for t in threads if t.kind == "episode" and t.open]
            transitions_all = [t for t in threads if t.kind == "transition"]
            last_transition = transitions_all[-1] if transitions_all else None
            activations = (journey.threads_of(beneficiary_id, ["activation"],
                                              parent_ids=[last_transition.thread_id])
                           if last_transition else [])
            wanted = {t.state_entry_id for t in open_steps} | {t.head_entry_id for t in open_steps}
            wanted |= {t.head_entry_id for t in episodes_open}
            wanted |= {t.state_entry_id for t in activations}
            if last_transition:
                wanted.add(last_transition.head_entry_id)
            loaded = journey.many(beneficiary_id, wanted, key)
            for thread in open_steps:
                state = loaded[thread.state_entry_id]
                head = loaded[thread.head_entry_id]
                head_kind = head.body["step_kind"]
                item = {"step_id": thread.thread_id, "step_kind": head_kind,
                        "status": state.body["status"], "blocker": state.body.get("blocker"),
                        "since": state.occurred_at,
                        "labels": {"step_kind": ctx.vocabulary["step_kind"].label(head_kind, language),
                                   "status": ctx.vocabulary["step_status"].label(state.body["status"], language)}}
                item["organisation"] = head.body.get("organisation")
                item["due_date"] = head.body.get("due_date")
                item["overdue"] = bool(item["due_date"] and date.fromisoformat(item["due_date"]) < today)
                summary["open_steps"].append(item)
                shown.append(state)
                counts = summary["open_steps_by_status"]
                counts[item["status"]] = counts.get(item["status"], 0) + 1
            for thread in episodes_open:
                head = loaded[thread.head_entry_id]
                summary["active_episodes"].append(show(ctx.vocabulary, head, reader))
                shown.append(head)
            if last_transition:
                head = loaded[last_transition.head_entry_id]
                progress = {"total": 0, "to_activate": 0, "contacted": 0, "acknowledged": 0,
                            "declined": 0, "overdue": 0}
                checklist = []
                for activation in activations:
                    state = loaded[activation.state_entry_id]
                    status = state.body["status"]
                    progress["total"] += 1
                    progress[status] = progress.get(status, 0) + 1
                    overdue = activation.open and date.fromisoformat(state.body["due_date"]) < today
                    progress["overdue"] += int(overdue)
                    checklist.append({**show(ctx.vocabulary, state, reader), "overdue": overdue,
                                      "activation_id": activation.thread_id})
                    shown.append(state)
                summary["last_transition"] = {**show(ctx.vocabulary, head, reader),
                                              "protocol": progress, "activations": checklist}
                shown.append(head)
            person = journey.person(beneficiary_id)
            if team.CATEGORY in permitted:
                if person is not None and person.referent_entry_id:
                    referent = journey.get(beneficiary_id, person.referent_entry_id, key)
                    if referent is not None:
                        summary["referent"] = {k: referent.body[k] for k in ("subject", "organisation", "profession")}
                        summary["referent"]["since"] = referent.occurred_at
                        shown.append(referent)
                changes = journey.of_kind(beneficiary_id, ["care_team"], key)
                summary["care_team"] = [
                    {k: body[k] for k in ("subject", "organisation", "profession")}
                    for body in team.current_members(e.body for e in changes).values()
                ]
                shown.extend(changes)
            summary["last_seen"] = _last_seen(uow, ctx.vocabulary, person, key, reader)
        elif "contacts" in permitted:
            summary["last_seen"] = _last_seen(uow, ctx.vocabulary, None, None, reader)
        if "alerts" in permitted:
            summary["open_alerts"] = journey.open_alert_counts([beneficiary_id]).get(beneficiary_id, 0)
        audit(uow, principal, request_id, action="summary.read" if not own else "summary.read_own",
              crude="R", beneficiary_id=beneficiary_id,
              categories={e.category for e in shown} or permitted,
              entry_ids=[e.id for e in shown], purpose=purpose, verdict=verdict)
        uow.commit()
    return summary


def _visible_people(uow: RecordUnitOfWork, principal: Principal, teams: frozenset[str]) -> list[str]:
    """Persons with an active grant naming this actor (its organisation, itself, one of its
    teams, or itself as a close one). The consent decision then confirms each one."""
    g = projection.grants.c
    named = []
    if principal.organisation and principal.role in ("professional", "system"):
        named.append(and_(g.grantee_kind == "organisation", g.grantee == principal.organisation))
    if principal.role == "professional":
        named.append(and_(g.grantee_kind == "professional", g.grantee == principal.subject))
        if teams:
            named.append(and_(g.grantee_kind == "care_team", g.grantee.in_(sorted(teams))))
    if principal.role == "close_one":
        named.append(and_(g.grantee_kind == "close_one", g.grantee == principal.subject))
    if not named:
        return []
    rows = uow.session.execute(select(g.beneficiary_id).where(g.active.is_(True), or_(*named))
                               .distinct())
    return sorted(rows.scalars())


@dataclass(frozen=True)
class CaseloadQuery:
    sort: str = "last_seen"  # last_seen | open_alerts | open_steps
    limit: int = 50
    offset: int = 0


def read_caseload(ctx: RecordContext, principal: Principal, query: CaseloadQuery,
                  request_id: str | None) -> dict[str, Any]:
    """The persons the professional may see, with when they were last seen, their open alerts
    and open steps. Each person listed is an access, audited for that person."""
    now = ctx.clock()
    with ctx.uow(read=True) as uow:
        teams = uow.teams_of(principal.subject)
        visible: dict[str, frozenset[str]] = {}
        verdicts: dict[str, Verdict] = {}
        for beneficiary_id in _visible_people(uow, principal, teams):
            verdict = judge(uow, ctx, principal, beneficiary_id, "read", CATEGORIES,
                            "care_coordination", now, teams=teams)
            if verdict.permitted:
                visible[beneficiary_id] = verdict.permitted
                verdicts[beneficiary_id] = verdict
        people = uow.journey.people_states(list(visible))
        alerts = uow.journey.open_alert_counts([b for b, c in visible.items() if "alerts" in c])
        open_steps = uow.journey.open_step_counts(list(visible), visible)
        rows = []
        for beneficiary_id, permitted in visible.items():
            person = people.get(beneficiary_id)
            contacts_ok = "contacts" in permitted
            rows.append({
                "beneficiary_id": beneficiary_id,
                "last_seen_at": person.last_met_at if person and contacts_ok else None,
                "last_attempt_at": person.last_attempt_at if person and contacts_ok else None,
                "open_alerts": alerts.get(beneficiary_id, 0) if "alerts" in permitted else None,
                "open_steps": open_steps.get(beneficiary_id, 0) if permitted & {"steps", "mental_health_episodes"} else None,
                "categories": sorted(permitted),
            })
        rows.sort(key=_caseload_order(query.sort))
        page = rows[query.offset: query.offset + query.limit]
        for row in page:
            audit(uow, principal, request_id, action="caseload.read", crude="R",
                  beneficiary_id=row["beneficiary_id"], categories=row["categories"],
                  verdict=verdicts[row["beneficiary_id"]])
        uow.commit()
    more = query.offset + query.limit < len(rows)
    return {"items": page, "next_offset": query.offset + query.limit if more else None,
            "total": len(rows)}


def _caseload_order(sort: str):
    far = datetime.max.replace(tzinfo=None)

    def last_seen(row: dict[str, Any]):
        # Never seen first, then the longest not seen: who needs someone to reach out.
        at = row["last_seen_at"]
        return (at is not None, at.replace(tzinfo=None) if at else far, row["beneficiary_id"])

    if sort == "open_alerts":
        return lambda row: (-(row["open_alerts"] or 0), *last_seen(row))
    if sort == "open_steps":
        return lambda row: (-(row["open_steps"] or 0), *last_seen(row))
    return last_seen


def visible_or_raise(ctx: RecordContext, principal: Principal, beneficiary_id: str,
                     categories: Collection[str]) -> None:
    """For endpoints that need no data: NotVisible unless the reader sees the person."""
    with ctx.uow(read=True) as uow:
        verdict = judge(uow, ctx, principal, beneficiary_id, "read", tuple(categories),
                        "care_coordination", ctx.clock())
        if not verdict.permitted:
            raise NotVisible(beneficiary_id)
