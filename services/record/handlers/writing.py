"""The commands that add to a person's journey. Each one: decide (consent projection), lock the
person, check the journey's rules, seal and append the entries, keep the read models, publish
the ``record.*`` events and the audit event — all in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.record.adapters.repository import Thread
from services.record.adapters.unit_of_work import RecordUnitOfWork
from services.record.domain import contacts, corrections, episodes, steps, team, transitions
from services.record.domain.entries import Entry, Rejected
from services.record.handlers.common import (
    SERVICE,
    NotFoundHere,
    RecordContext,
    Verdict,
    audit,
    author_of,
    judge,
    refuse,
)
from services.record.handlers.publishing import event_of
from shared.audit_trail import Crude
from shared.auth import Principal

WRITE_PURPOSE = "care_coordination"


class Writer:
    """One guarded write on one person, inside an open unit of work."""

    def __init__(self, ctx: RecordContext, uow: RecordUnitOfWork, principal: Principal,
                 request_id: str | None, beneficiary_id: str) -> None:
        self.ctx = ctx
        self.uow = uow
        self.principal = principal
        self.request_id = request_id
        self.beneficiary_id = beneficiary_id
        self.now = ctx.clock()
        self.author = author_of(principal)
        self.vocabulary = ctx.vocabulary
        self.journey = uow.journey
        self.written: list[Entry] = []
        self._key: bytes | None = None
        self._verdict: Verdict | None = None
        self._categories: set[str] = set()

    # -- consent ------------------------------------------------------------------------------
    def may_write(self, categories: Iterable[str], *, action: str, crude: Crude = "C") -> None:
        wanted = tuple(sorted(set(categories)))
        verdict = judge(self.uow, self.ctx, self.principal, self.beneficiary_id, "write", wanted,
                        WRITE_PURPOSE, self.now)
        if not set(wanted) <= verdict.permitted:
            refuse(self.uow, self.ctx, self.principal, self.request_id, action=action, crude=crude,
                   beneficiary_id=self.beneficiary_id, categories=wanted, purpose=WRITE_PURPOSE,
                   verdict=verdict, now=self.now)
        self._verdict = verdict
        self._categories.update(wanted)
        self.journey.lock_person(self.beneficiary_id, self.now)

    def may_read_person(self, *, action: str, crude: Crude) -> frozenset[str]:
        """Before a thread is looked up: the caller must see something of the person, or it
        gets the answer of a person who does not exist."""
        from shared.consent.vocabulary import CATEGORIES

        verdict = judge(self.uow, self.ctx, self.principal, self.beneficiary_id, "read",
                        CATEGORIES, WRITE_PURPOSE, self.now)
        if not verdict.permitted:
            refuse(self.uow, self.ctx, self.principal, self.request_id, action=action, crude=crude,
                   beneficiary_id=self.beneficiary_id, categories=(), purpose=WRITE_PURPOSE,
                   verdict=verdict, now=self.now)
        return verdict.permitted

    # -- reading back what is needed to check a change ----------------------------------------
    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = self.ctx.keys.obtain(self.uow.session, self.beneficiary_id)
        return self._key

    def thread(self, thread_id: str, kind: str, *, action: str, crude: Crude = "U") -> Thread:
        """A thread of this person, locked; a missing or hidden one answers like a missing one."""
        visible = self.may_read_person(action=action, crude=crude)
        # The person first, then the thread: every write takes its locks in this order.
        self.journey.lock_person(self.beneficiary_id, self.now)
        found = self.journey.thread(self.beneficiary_id, thread_id, for_update=True)
        if found is None or found.kind != kind or found.voided or found.category not in visible:
            audit(self.uow, self.principal, self.request_id, action=action, crude=crude,
                  beneficiary_id=self.beneficiary_id, outcome="deny", reason="not_found")
            self.uow.commit()
            raise NotFoundHere(thread_id)
        return found

    def entry(self, entry_id: str) -> Entry:
        found = self.journey.get(self.beneficiary_id, entry_id, self.key)
        assert found is not None, "a thread points to an entry that does not exist"
        return found

    # -- writing ------------------------------------------------------------------------------
    def append(self, entry: Entry, **event_extra: Any) -> Entry:
        self.journey.add(entry, self.key)
        event_type, payload = event_of(self.vocabulary, entry, **event_extra)
        self.uow.publish(event_type, payload, correlation_id=self.request_id)
        self.written.append(entry)
        return entry

    def finish(self, action: str, crude: Crude = "C") -> None:
        audit(self.uow, self.principal, self.request_id, action=action, crude=crude,
              beneficiary_id=self.beneficiary_id,
              categories=self._categories or {e.category for e in self.written},
              entry_ids=[e.id for e in self.written], purpose=WRITE_PURPOSE, verdict=self._verdict)
        self.uow.commit()


def _run(ctx: RecordContext, principal: Principal, request_id: str | None, beneficiary_id: str,
         body) -> list[Entry]:
    with ctx.uow() as uow:
        writer = Writer(ctx, uow, principal, request_id, beneficiary_id)
        body(writer)
        return writer.written


# -- contacts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogContact:
    beneficiary_id: str
    occurred_at: datetime
    modality: str
    outcome: str
    duration_minutes: int | None = None


def _keep_last_seen(w: Writer, entry: Entry) -> None:
    person = w.journey.person(w.beneficiary_id)
    assert person is not None  # locked by may_write
    if contacts.counts_as_seen(w.vocabulary, entry):
        if person.last_met_at is None or entry.occurred_at >= person.last_met_at:
            w.journey.update_person(w.beneficiary_id, w.now, last_met_at=entry.occurred_at,
                                    last_met_entry_id=entry.id)
    elif person.last_attempt_at is None or entry.occurred_at >= person.last_attempt_at:
        w.journey.update_person(w.beneficiary_id, w.now, last_attempt_at=entry.occurred_at,
                                last_attempt_entry_id=entry.id)


def log_contact(ctx: RecordContext, principal: Principal, command: LogContact,
                request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        w.may_write([contacts.CATEGORY], action="contact.log")
        entry = contacts.new_contact(
            w.vocabulary, w.beneficiary_id, w.author, occurred_at=command.occurred_at,
            modality=command.modality, outcome=command.outcome,
            duration_minutes=command.duration_minutes, now=w.now)
        w.append(entry)
        _keep_last_seen(w, entry)
        w.finish("contact.log")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


# -- steps ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenStep:
    beneficiary_id: str
    step_kind: str
    status: str = "requested"
    blocker: str | None = None
    organisation: str | None = None
    due_date: date | None = None
    occurred_at: datetime | None = None


def open_step(ctx: RecordContext, principal: Principal, command: OpenStep,
              request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        w.may_write([steps.category_of(w.vocabulary, command.step_kind)], action="step.open")
        entry = steps.open_step(
            w.vocabulary, w.beneficiary_id, w.author, step_kind=command.step_kind,
            status=command.status, blocker=command.blocker, organisation=command.organisation,
            due_date=command.due_date, occurred_at=command.occurred_at or w.now, now=w.now)
        w.append(entry)
        w.journey.start_thread(entry, "step", open=steps.is_open(w.vocabulary, command.status))
        w.finish("step.open")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


@dataclass(frozen=True)
class MoveStep:
    beneficiary_id: str
    step_id: str
    status: str
    blocker: str | None = None
    occurred_at: datetime | None = None


def move_step(ctx: RecordContext, principal: Principal, command: MoveStep,
              request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        thread = w.thread(command.step_id, "step", action="step.move")
        w.may_write([thread.category], action="step.move", crude="U")
        state = w.entry(thread.state_entry_id)
        entry = steps.change_status(
            w.vocabulary, w.beneficiary_id, w.author, step_id=thread.thread_id,
            step_kind=state.body["step_kind"], current_status=state.body["status"],
            current_blocker=state.body.get("blocker"), since=state.occurred_at,
            status=command.status, blocker=command.blocker,
            occurred_at=command.occurred_at or w.now, now=w.now)
        w.append(entry)
        w.journey.move_thread(thread.thread_id, state_entry_id=entry.id, changed_at=w.now,
                              open=steps.is_open(w.vocabulary, command.status))
        w.finish("step.move", "U")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


# -- episodes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenEpisode:
    beneficiary_id: str
    episode_type: str
    started_at: datetime
    ended_at: datetime | None = None


def open_episode(ctx: RecordContext, principal: Principal, command: OpenEpisode,
                 request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        w.may_write([episodes.category_of(w.vocabulary, command.episode_type)], action="episode.open")
        entry = episodes.open_episode(
            w.vocabulary, w.beneficiary_id, w.author, episode_type=command.episode_type,
            started_at=command.started_at, ended_at=command.ended_at, now=w.now)
        w.append(entry)
        w.journey.start_thread(entry, "episode", open=command.ended_at is None)
        w.finish("episode.open")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


@dataclass(frozen=True)
class EndEpisode:
    beneficiary_id: str
    episode_id: str
    ended_at: datetime


def _end_episode(w: Writer, thread: Thread, ended_at: datetime) -> Entry:
    head = w.entry(thread.head_entry_id)
    entry = episodes.end_episode(
        w.vocabulary, w.beneficiary_id, w.author, episode_id=thread.thread_id,
        episode_type=head.body["episode_type"],
        started_at=datetime.fromisoformat(head.body["started_at"]),
        already_ended=not thread.open, ended_at=ended_at, now=w.now)
    w.append(entry)
    w.journey.move_thread(thread.thread_id, state_entry_id=entry.id, open=False, changed_at=w.now)
    return entry


def end_episode(ctx: RecordContext, principal: Principal, command: EndEpisode,
                request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        thread = w.thread(command.episode_id, "episode", action="episode.end")
        w.may_write([thread.category], action="episode.end", crude="U")
        _end_episode(w, thread, command.ended_at)
        w.finish("episode.end", "U")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


# -- transitions and their exit protocol ------------------------------------------------------
@dataclass(frozen=True)
class RecordTransition:
    beneficiary_id: str
    transition_kind: str
    occurred_at: datetime
    fragility: dict[str, str]
    activations: tuple[transitions.ActivationRequest, ...] | None = None


def _close_matching_episode(w: Writer, transition_kind: str, at: datetime) -> str | None:
    """An exit from prison ends the open incarceration, where the author may write episodes."""
    closes = set(w.vocabulary["transition_kind"].term(transition_kind).get("closes", ()))
    for thread in w.journey.threads_of(w.beneficiary_id, ["episode"], open_only=True):
        head = w.entry(thread.head_entry_id)
        started = datetime.fromisoformat(head.body["started_at"])
        if head.body["episode_type"] in closes and started <= at:
            verdict = judge(w.uow, w.ctx, w.principal, w.beneficiary_id, "write",
                            (thread.category,), WRITE_PURPOSE, w.now)
            if thread.category in verdict.permitted:
                w._categories.add(thread.category)
                locked = w.journey.thread(w.beneficiary_id, thread.thread_id, for_update=True)
                assert locked is not None
                _end_episode(w, locked, at)
                return thread.thread_id
    return None


def record_transition(ctx: RecordContext, principal: Principal, command: RecordTransition,
                      request_id: str | None) -> tuple[Entry, list[Entry]]:
    def body(w: Writer) -> None:
        w.may_write([transitions.category_of(w.vocabulary, command.transition_kind)],
                    action="transition.record")
        transition, activations = transitions.record_transition(
            w.vocabulary, ctx.templates, w.beneficiary_id, w.author,
            transition_kind=command.transition_kind, occurred_at=command.occurred_at,
            fragility=command.fragility, activations=command.activations, now=w.now)
        closed = _close_matching_episode(w, command.transition_kind, command.occurred_at)
        w.journey.add(transition, w.key)
        w.written.append(transition)
        w.journey.start_thread(transition, "transition", open=True)
        for activation in activations:
            w.journey.add(activation, w.key)
            w.written.append(activation)
            w.journey.start_thread(activation, "activation", open=True,
                                   parent_id=transition.thread_id)
        event_type, payload = event_of(w.vocabulary, transition, activations=activations,
                                       closed_episode_id=closed)
        w.uow.publish(event_type, payload, correlation_id=request_id)
        w.finish("transition.record")

    written = _run(ctx, principal, request_id, command.beneficiary_id, body)
    transition = next(e for e in written if e.kind == "transition")
    return transition, [e for e in written if e.kind == "activation"]


@dataclass(frozen=True)
class AddActivation:
    beneficiary_id: str
    transition_id: str
    service_kind: str
    due_date: date
    organisation: str | None = None


def add_activation(ctx: RecordContext, principal: Principal, command: AddActivation,
                   request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        thread = w.thread(command.transition_id, "transition", action="protocol.add")
        w.may_write([thread.category], action="protocol.add")
        head = w.entry(thread.head_entry_id)
        entry = transitions.add_activation(
            w.vocabulary, w.beneficiary_id, w.author, category=thread.category,
            transition_id=thread.thread_id, transition_at=head.occurred_at,
            service_kind=command.service_kind, organisation=command.organisation,
            due_date=command.due_date, now=w.now)
        w.append(entry)
        w.journey.start_thread(entry, "activation", open=True, parent_id=thread.thread_id)
        w.finish("protocol.add")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


@dataclass(frozen=True)
class MoveActivation:
    beneficiary_id: str
    activation_id: str
    status: str
    organisation: str | None = None
    reason: str | None = None
    occurred_at: datetime | None = None


def move_activation(ctx: RecordContext, principal: Principal, command: MoveActivation,
                    request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        thread = w.thread(command.activation_id, "activation", action="protocol.move")
        w.may_write([thread.category], action="protocol.move", crude="U")
        state = w.entry(thread.state_entry_id)
        entry = transitions.change_activation(
            w.vocabulary, w.beneficiary_id, w.author, category=thread.category,
            activation=state.body, current_status=state.body["status"], since=state.occurred_at,
            status=command.status, organisation=command.organisation, reason=command.reason,
            occurred_at=command.occurred_at or w.now, now=w.now)
        w.append(entry)
        is_open = bool(w.vocabulary["activation_status"].term(command.status).get("open"))
        w.journey.move_thread(thread.thread_id, state_entry_id=entry.id, open=is_open,
                              changed_at=w.now)
        w.finish("protocol.move", "U")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


# -- référent and care team -------------------------------------------------------------------
@dataclass(frozen=True)
class NameReferent:
    beneficiary_id: str
    subject: str
    organisation: str | None
    profession: str | None
    occurred_at: datetime | None = None


def name_referent(ctx: RecordContext, principal: Principal, command: NameReferent,
                  request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        w.may_write([team.CATEGORY], action="referent.name")
        person = w.journey.person(w.beneficiary_id)
        current = None
        if person is not None and person.referent_entry_id:
            current = w.entry(person.referent_entry_id).body["subject"]
        entry = team.name_referent(
            w.vocabulary, w.beneficiary_id, w.author, subject=command.subject,
            organisation=command.organisation, profession=command.profession,
            current_subject=current, occurred_at=command.occurred_at or w.now, now=w.now)
        w.append(entry)
        w.journey.update_person(w.beneficiary_id, w.now, referent_entry_id=entry.id)
        w.finish("referent.name")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


@dataclass(frozen=True)
class ChangeCareTeam:
    beneficiary_id: str
    subject: str
    change: str
    organisation: str | None = None
    profession: str | None = None
    occurred_at: datetime | None = None


def change_care_team(ctx: RecordContext, principal: Principal, command: ChangeCareTeam,
                     request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        w.may_write([team.CATEGORY], action="care_team.change")
        members = team.current_members(
            e.body for e in w.journey.of_kind(w.beneficiary_id, ["care_team"], w.key))
        entry = team.change_care_team(
            w.vocabulary, w.beneficiary_id, w.author, subject=command.subject,
            organisation=command.organisation, profession=command.profession,
            change=command.change, members=members, occurred_at=command.occurred_at or w.now,
            now=w.now)
        w.append(entry)
        w.finish("care_team.change")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


# -- corrections ------------------------------------------------------------------------------
def _target(w: Writer, entry_id: str, *, action: str) -> tuple[Entry, bool]:
    visible = w.may_read_person(action=action, crude="U")
    w.journey.lock_person(w.beneficiary_id, w.now)
    target = w.journey.get(w.beneficiary_id, entry_id, w.key)
    if target is None or target.category not in visible:
        audit(w.uow, w.principal, w.request_id, action=action, crude="U",
              beneficiary_id=w.beneficiary_id, outcome="deny", reason="not_found")
        w.uow.commit()
        raise NotFoundHere(entry_id)
    replaced = bool(w.journey.replaced(w.beneficiary_id, [entry_id]))
    return target, replaced


def _recompute_person(w: Writer) -> None:
    """After a contact or a référent was voided or corrected: fold the current entries again."""
    met = attempt = referent = None
    for entry in w.journey.of_kind(w.beneficiary_id, ["contact", "referent"], w.key):
        if entry.kind == "referent":
            referent = entry
        elif contacts.counts_as_seen(w.vocabulary, entry):
            met = entry if met is None or entry.occurred_at >= met.occurred_at else met
        else:
            attempt = entry if attempt is None or entry.occurred_at >= attempt.occurred_at else attempt
    w.journey.update_person(
        w.beneficiary_id, w.now,
        last_met_at=met.occurred_at if met else None, last_met_entry_id=met.id if met else None,
        last_attempt_at=attempt.occurred_at if attempt else None,
        last_attempt_entry_id=attempt.id if attempt else None,
        referent_entry_id=referent.id if referent else None)


@dataclass(frozen=True)
class Correct:
    beneficiary_id: str
    entry_id: str
    fields: dict[str, Any]


def correct(ctx: RecordContext, principal: Principal, command: Correct,
            request_id: str | None) -> Entry:
    """A new entry of the same kind, built from the old one with ``fields`` changed, that
    supersedes it. Its category may change (a stay corrected into a psychiatric stay): the
    author must be allowed to write both."""

    def body(w: Writer) -> None:
        target, replaced = _target(w, command.entry_id, action="entry.correct")
        corrections.check_correctable(target.kind, replaced=replaced)
        entry = _corrected(w, target, command.fields)
        w.may_write({target.category, entry.category}, action="entry.correct", crude="U")
        w.append(entry)
        w.journey.replace(target, "superseded", entry)
        if target.thread_id is not None:
            thread = w.journey.thread(w.beneficiary_id, target.thread_id, for_update=True)
            assert thread is not None
            changes: dict[str, Any] = {"category": entry.category, "changed_at": w.now}
            if thread.head_entry_id == target.id:
                changes["head_entry_id"] = entry.id
                changes["opened_at"] = entry.occurred_at
            if thread.state_entry_id == target.id:
                changes["state_entry_id"] = entry.id
            if target.kind == "episode" and thread.state_entry_id == target.id:
                changes["open"] = entry.body["ended_at"] is None
            w.journey.move_thread(thread.thread_id, **changes)
        if target.kind == "contact":
            _recompute_person(w)
        w.finish("entry.correct", "U")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


def _corrected(w: Writer, target: Entry, fields: dict[str, Any]) -> Entry:
    body = target.body
    now = w.now

    def pick(name: str, current: Any) -> Any:
        return fields[name] if name in fields else current

    def moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    allowed = {
        "contact": {"occurred_at", "modality", "outcome", "duration_minutes"},
        "step": {"step_kind", "organisation", "due_date", "occurred_at"},
        "episode": {"episode_type", "started_at", "ended_at"},
        "transition": {"occurred_at", "fragility"},
        "activation": {"service_kind", "organisation", "due_date"},
    }[target.kind]
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise Rejected([(name, f"Not a field a {target.kind} correction can change.") for name in unknown])
    if not fields:
        raise Rejected([("(body)", f"Name at least one of: {', '.join(sorted(allowed))}.")])
    if target.kind == "contact":
        return contacts.new_contact(
            w.vocabulary, w.beneficiary_id, w.author,
            occurred_at=pick("occurred_at", target.occurred_at), modality=pick("modality", body["modality"]),
            outcome=pick("outcome", body["outcome"]),
            duration_minutes=pick("duration_minutes", body["duration_minutes"]), now=now,
            supersedes=target.id)
    if target.kind == "step":
        return steps.open_step(
            w.vocabulary, w.beneficiary_id, w.author, step_kind=pick("step_kind", body["step_kind"]),
            status=body["status"], blocker=body["blocker"],
            organisation=pick("organisation", body["organisation"]),
            due_date=pick("due_date", day(body["due_date"])),
            occurred_at=pick("occurred_at", target.occurred_at), now=now,
            step_id=body["step_id"], supersedes=target.id)
    if target.kind == "episode":
        return episodes.open_episode(
            w.vocabulary, w.beneficiary_id, w.author,
            episode_type=pick("episode_type", body["episode_type"]),
            started_at=pick("started_at", moment(body["started_at"])),
            ended_at=pick("ended_at", moment(body["ended_at"])), now=now,
            episode_id=body["episode_id"], supersedes=target.id)
    if target.kind == "transition":
        corrected, _ = transitions.record_transition(
            w.vocabulary, w.ctx.templates, w.beneficiary_id, w.author,
            transition_kind=body["transition_kind"],
            occurred_at=pick("occurred_at", target.occurred_at),
            fragility=pick("fragility", body["fragility"]), activations=[], now=now,
            transition_id=body["transition_id"], supersedes=target.id)
        return corrected
    return transitions.add_activation(
        w.vocabulary, w.beneficiary_id, w.author, category=target.category,
        transition_id=body["transition_id"], transition_at=target.occurred_at,
        service_kind=pick("service_kind", body["service_kind"]),
        organisation=pick("organisation", body["organisation"]),
        due_date=pick("due_date", day(body["due_date"])), now=now,
        activation_id=body["activation_id"], supersedes=target.id)


@dataclass(frozen=True)
class Void:
    beneficiary_id: str
    entry_id: str
    reason: str


def void(ctx: RecordContext, principal: Principal, command: Void, request_id: str | None) -> Entry:
    def body(w: Writer) -> None:
        target, replaced = _target(w, command.entry_id, action="entry.void")
        w.may_write([target.category], action="entry.void", crude="U")
        thread = (w.journey.thread(w.beneficiary_id, target.thread_id, for_update=True)
                  if target.thread_id else None)
        latest = thread is not None and thread.state_entry_id == target.id
        entry = corrections.void_entry(w.vocabulary, w.author, target=target, replaced=replaced,
                                       latest_of_thread=latest, reason=command.reason, now=w.now)
        w.append(entry, voided=target)
        w.journey.replace(target, "voided", entry)
        if thread is not None:
            _after_void(w, thread, target, command.reason)
        if target.kind in ("contact", "referent"):
            _recompute_person(w)
        w.finish("entry.void", "U")

    return _run(ctx, principal, request_id, command.beneficiary_id, body)[0]


def _after_void(w: Writer, thread: Thread, target: Entry, reason: str) -> None:
    if thread.head_entry_id == target.id:
        w.journey.move_thread(thread.thread_id, voided=True, open=False, changed_at=w.now)
        if target.kind == "transition":  # its protocol goes with it
            for child in w.journey.threads_of(w.beneficiary_id, ["activation"],
                                              parent_ids=[thread.thread_id]):
                head = w.entry(child.head_entry_id)
                if w.journey.replaced(w.beneficiary_id, [head.id]):
                    continue
                child_void = corrections.void_entry(
                    w.vocabulary, w.author, target=head, replaced=False, latest_of_thread=True,
                    reason=reason, now=w.now)
                w.append(child_void, voided=head)
                w.journey.replace(head, "voided", child_void)
                w.journey.move_thread(child.thread_id, voided=True, open=False, changed_at=w.now)
        return
    # The latest change of the thread was voided: the thread is back where it was before it.
    replaced = w.journey.replaced(w.beneficiary_id)
    remaining = [e for e in w.journey.in_thread(thread.thread_id, w.key)
                 if e.id not in replaced and e.kind != "void" and e.id != target.id]
    previous = remaining[-1]
    values: dict[str, Any] = {"state_entry_id": previous.id, "changed_at": w.now}
    if target.kind == "step_status":
        values["open"] = steps.is_open(w.vocabulary, previous.body["status"])
    elif target.kind == "activation_status":
        values["open"] = bool(w.vocabulary["activation_status"].term(previous.body["status"]).get("open"))
    elif target.kind == "episode_end":
        values["open"] = previous.body.get("ended_at") is None
    w.journey.move_thread(thread.thread_id, **values)


__all__ = [
    "SERVICE", "AddActivation", "ChangeCareTeam", "Correct", "EndEpisode", "LogContact",
    "MoveActivation", "MoveStep", "NameReferent", "OpenEpisode", "OpenStep", "RecordTransition",
    "Void", "add_activation", "change_care_team", "correct", "end_episode", "log_contact",
    "move_activation", "move_step", "name_referent", "open_episode", "open_step",
    "record_transition", "void",
]
