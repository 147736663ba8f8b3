"""The journey as the alerts service keeps it: facts taken from ``record.*`` events, and the
fold that turns a person's current facts into what the rules look at.

A fact is one journey entry reduced to its codes and times. The record service corrects an
entry by publishing a new one that ``supersedes`` it and voids one with ``record.entry_voided``;
both mark the old fact replaced, so folding the current facts again gives the right last seen,
episodes and steps. A void may arrive before the entry it voids (a retried delivery): the
replaced mark is kept as a tombstone and the late entry never counts. Voiding the head of a
thread (an episode, a transition, an activation, a step) voids the whole thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.journey import events
from shared.vocabularies import Vocabulary

HEAD_KINDS = frozenset({"episode", "transition", "activation", "step"})
THREAD_VOID = "thread_void"


@dataclass(frozen=True)
class Fact:
    entry_id: str
    beneficiary_id: str
    kind: str  # contact episode episode_end transition activation step step_status referent care_team thread_void
    recorded_at: datetime  # when the record service published it: the order within a thread
    occurred_at: datetime | None = None
    thread_id: str | None = None
    codes: Mapping[str, Any] = field(default_factory=dict)
    replaced: bool = False


@dataclass(frozen=True)
class FactChange:
    """What one event does to the facts of a person."""

    beneficiary_id: str
    add: tuple[Fact, ...] = ()
    replace: tuple[str, ...] = ()  # entry ids no longer current
    erase: bool = False


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def change_of(event_type: str, data: Mapping[str, Any], recorded_at: datetime) -> FactChange:
    """The facts of one journey event (its payload loaded by ``shared.journey.events.load``)."""
    person = str(data["beneficiary_id"])
    if event_type == events.PERSON_ERASED:
        return FactChange(person, erase=True)
    entry_id = str(data["entry_id"])
    replaced = (str(data["supersedes"]),) if data.get("supersedes") else ()

    def fact(fact_kind: str, thread_id: str | None = None, /, **codes: Any) -> Fact:
        return Fact(entry_id, person, fact_kind, recorded_at, data["occurred_at"], thread_id, codes)

    if event_type == events.CONTACT_LOGGED:
        added = [fact("contact", outcome=data["outcome"], organisation=data.get("organisation"))]
    elif event_type == events.EPISODE_OPENED:
        added = [fact("episode", data["episode_id"], type=data["type"],
                      institution=bool(data["institution"]), started_at=_iso(data["started_at"]),
                      ended_at=_iso(data.get("ended_at")))]
    elif event_type == events.EPISODE_CLOSED:
        added = [fact("episode_end", data["episode_id"], ended_at=_iso(data["ended_at"]))]
    elif event_type == events.TRANSITION_RECORDED:
        fragility = dict(data["fragility"])
        fragile = bool(fragility.pop("fragile"))
        added = [fact("transition", data["transition_id"], kind=data["kind"], fragility=fragility,
                      fragile=fragile)]
        for activation in data["activations"]:
            added.append(Fact(f"{entry_id}/{activation['activation_id']}", person, "activation",
                              recorded_at, data["occurred_at"], activation["activation_id"],
                              {"status": activation["status"],
                               "due_date": _iso(activation["due_date"])}))
    elif event_type == events.ACTIVATION_CHANGED:
        # A status change names the status before it; a correction of the activation does not.
        kind = "activation" if data.get("previous_status") is None else "activation_status"
        added = [fact(kind, data["activation_id"], status=data["status"],
                      due_date=_iso(data["due_date"]))]
    elif event_type == events.STEP_OPENED:
        added = [fact("step", data["step_id"], kind=data["kind"], status=data["status"])]
    elif event_type == events.STEP_CHANGED:
        added = [fact("step_status", data["step_id"], kind=data["kind"], status=data["status"])]
    elif event_type == events.REFERENT_CHANGED:
        added = [fact("referent", subject=data["subject"], organisation=data.get("organisation"),
                      profession=data.get("profession"))]
    elif event_type == events.CARE_TEAM_CHANGED:
        added = [fact("care_team", subject=data["subject"], organisation=data.get("organisation"),
                      profession=data.get("profession"), change=data["change"])]
    elif event_type == events.ENTRY_VOIDED:
        if data["voided_kind"] in HEAD_KINDS and data.get("thread_id"):
            return FactChange(person, add=(fact(THREAD_VOID, data["thread_id"]),))
        return FactChange(person, replace=(str(data["voided_entry_id"]),))
    else:
        added = []
    return FactChange(person, add=tuple(added), replace=replaced)


# -- the fold -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Episode:
    episode_id: str
    type: str
    institution: bool
    started_at: datetime
    ended_at: datetime | None  # by its own end, or by a transition that closes its type


@dataclass(frozen=True)
class Transition:
    transition_id: str
    kind: str
    occurred_at: datetime
    fragility: Mapping[str, str]
    fragile: bool


@dataclass(frozen=True)
class Activation:
    activation_id: str
    status: str
    due_date: date


@dataclass(frozen=True)
class Step:
    step_id: str
    kind: str
    status: str
    since: datetime
    state_entry_id: str


@dataclass(frozen=True)
class Follower:
    subject: str
    role: str  # referent | care_team
    organisation: str | None
    profession: str | None


@dataclass(frozen=True)
class JourneyView:
    beneficiary_id: str
    last_met: Fact | None = None
    last_attempt: Fact | None = None
    first: Fact | None = None
    episodes: tuple[Episode, ...] = ()
    transitions: tuple[Transition, ...] = ()
    activations: tuple[Activation, ...] = ()
    steps: tuple[Step, ...] = ()
    referent: Follower | None = None
    care_team: tuple[Follower, ...] = ()
    last_contact_organisation: str | None = None

    @property
    def organisation(self) -> str | None:
        """The organisation an alert about this person is routed to: the référent's, else the
        one that last logged a contact."""
        if self.referent is not None and self.referent.organisation:
            return self.referent.organisation
        return self.last_contact_organisation

    @property
    def followers(self) -> tuple[Follower, ...]:
        head = (self.referent,) if self.referent is not None else ()
        return head + tuple(m for m in self.care_team
                            if self.referent is None or m.subject != self.referent.subject)

    def open_institution(self) -> Episode | None:
        for episode in self.episodes:
            if episode.institution and episode.ended_at is None:
                return episode
        return None

    def last_exit(self) -> Episode | None:
        ended = [e for e in self.episodes if e.institution and e.ended_at is not None]
        return max(ended, key=lambda e: (e.ended_at, e.episode_id)) if ended else None


def _order(fact: Fact) -> tuple:
    return (fact.recorded_at, fact.entry_id)


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def fold(beneficiary_id: str, facts: Iterable[Fact], vocabulary: Vocabulary) -> JourneyView:
    """What the rules see of a person, from their facts (current or not, in any order)."""
    facts = list(facts)
    voided_threads = {f.thread_id for f in facts if f.kind == THREAD_VOID}
    current = sorted((f for f in facts
                      if not f.replaced and f.kind != THREAD_VOID and f.thread_id not in voided_threads),
                     key=_order)
    seen = vocabulary["contact_outcome"]
    last_met = last_attempt = first = None
    last_contact: Fact | None = None
    threads: dict[str, list[Fact]] = {}
    referent: Follower | None = None
    team: dict[str, Follower] = {}
    by_time = sorted(current, key=lambda f: (f.occurred_at or f.recorded_at, f.recorded_at, f.entry_id))
    for item in by_time:
        if item.kind in ("contact", "transition", "episode", "step") and first is None:
            first = item
        if item.kind == "contact":
            last_contact = item
            if seen.term(item.codes["outcome"]).get("seen"):
                last_met = item
            else:
                last_attempt = item
        elif item.kind == "referent":
            referent = Follower(item.codes["subject"], "referent", item.codes.get("organisation"),
                                item.codes.get("profession"))
        elif item.kind == "care_team":
            subject = item.codes["subject"]
            if item.codes["change"] == "added":
                team[subject] = Follower(subject, "care_team", item.codes.get("organisation"),
                                         item.codes.get("profession"))
            else:
                team.pop(subject, None)
        if item.thread_id is not None:
            threads.setdefault(item.thread_id, []).append(item)
    for chain in threads.values():
        chain.sort(key=_order)
    transitions = _transitions(threads)
    return JourneyView(
        beneficiary_id=beneficiary_id, last_met=last_met, last_attempt=last_attempt, first=first,
        episodes=_episodes(threads, transitions, vocabulary), transitions=transitions,
        activations=_activations(threads), steps=_steps(threads), referent=referent,
        care_team=tuple(team[k] for k in sorted(team)),
        last_contact_organisation=last_contact.codes.get("organisation") if last_contact else None,
    )


def _transitions(threads: Mapping[str, list[Fact]]) -> tuple[Transition, ...]:
    found = []
    for thread_id, chain in threads.items():
        heads = [f for f in chain if f.kind == "transition"]
        if heads:
            head = heads[-1]  # the latest correction
            assert head.occurred_at is not None
            found.append(Transition(thread_id, head.codes["kind"], head.occurred_at,
                                    dict(head.codes["fragility"]), bool(head.codes["fragile"])))
    return tuple(sorted(found, key=lambda t: (t.occurred_at, t.transition_id)))


def _episodes(threads: Mapping[str, list[Fact]], transitions: tuple[Transition, ...],
              vocabulary: Vocabulary) -> tuple[Episode, ...]:
    kinds = vocabulary["transition_kind"]
    found = []
    for thread_id, chain in threads.items():
        heads = [f for f in chain if f.kind == "episode"]
        if not heads:
            continue
        head = heads[-1]
        started = _at(head.codes["started_at"])
        assert started is not None
        ends = [f for f in chain if f.kind == "episode_end"]
        ended = _at(ends[-1].codes["ended_at"]) if ends else _at(head.codes.get("ended_at"))
        if ended is None:
            # An exit recorded by someone who may not write episodes still ends the stay for
            # the clock: the vocabulary says which episode types each transition closes.
            closing = [t.occurred_at for t in transitions if t.occurred_at >= started
                       and head.codes["type"] in kinds.term(t.kind).get("closes", ())]
            ended = min(closing) if closing else None
        found.append(Episode(thread_id, head.codes["type"], bool(head.codes["institution"]),
                             started, ended))
    return tuple(sorted(found, key=lambda e: (e.started_at, e.episode_id)))


def _head_and_state(chain: list[Fact], head_kind: str, change_kind: str) -> tuple[Fact | None, Fact | None]:
    """The latest head (corrections included) and the current state: the latest change, or
    the head while nothing changed. A correction of the head leaves later changes standing."""
    heads = [f for f in chain if f.kind == head_kind]
    changes = [f for f in chain if f.kind == change_kind]
    head = heads[-1] if heads else None
    return head, changes[-1] if changes else head


def _activations(threads: Mapping[str, list[Fact]]) -> tuple[Activation, ...]:
    found = []
    for thread_id, chain in threads.items():
        head, state = _head_and_state(chain, "activation", "activation_status")
        if state is not None:
            due = (head or state).codes["due_date"]
            found.append(Activation(thread_id, state.codes["status"], date.fromisoformat(due)))
    return tuple(sorted(found, key=lambda a: a.activation_id))


def _steps(threads: Mapping[str, list[Fact]]) -> tuple[Step, ...]:
    found = []
    for thread_id, chain in threads.items():
        head, state = _head_and_state(chain, "step", "step_status")
        if state is not None:
            assert state.occurred_at is not None
            found.append(Step(thread_id, (head or state).codes["kind"], state.codes["status"],
                              state.occurred_at, state.entry_id))
    return tuple(sorted(found, key=lambda s: s.step_id))
