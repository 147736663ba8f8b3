"""What every handler of the record service shares: its context, its errors, and the one way an
access is decided and audited.

Every read and write asks the local consent projection (actor, person, action, categories,
purpose) and writes one audit event — permit or deny — to the outbox in the same transaction as
the access. A refused actor who may see nothing of the person gets the same answer as for a
person who does not exist; one who may see the person but not this category is told so."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.record.adapters.sealing import PersonKeys
from services.record.adapters.unit_of_work import RecordUnitOfWork
from services.record.domain.entries import Author
from services.record.domain.transitions import ProtocolTemplates
from shared.audit_trail import Access, Crude, record_access
from shared.auth import Principal
from shared.consent.decision import Actor, ConsentState, Decision, Question, decide
from shared.consent.policy import Policy
from shared.consent.vocabulary import CATEGORIES
from shared.vocabularies import Vocabulary

SERVICE = "record"


class NotVisible(LookupError):
    """No such person, or the caller may not know that there is: one answer for both."""


class Forbidden(PermissionError):
    """The caller may see the person, but not do this."""


class NotFoundHere(LookupError):
    """The person is visible, but this entry, step or episode is not (or not of theirs)."""


@dataclass
class RecordContext:
    vocabulary: Vocabulary
    templates: ProtocolTemplates
    policy: Policy
    keys: PersonKeys
    uow_factory: Callable[[], RecordUnitOfWork]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # A read's unit of work: its only write is the audit event, written last, committed by its
    # own INSERT (shared.runtime, read_sessions). Without one, reads use uow_factory.
    read_uow_factory: Callable[[], RecordUnitOfWork] | None = None

    def uow(self, *, read: bool = False) -> RecordUnitOfWork:
        if read and self.read_uow_factory is not None:
            return self.read_uow_factory()
        return self.uow_factory()


def author_of(principal: Principal) -> Author:
    return Author(principal.subject, principal.organisation, principal.profession)


@dataclass(frozen=True)
class Verdict:
    """What the consent projection said for one access."""

    decision: Decision
    state: ConsentState | None

    @property
    def permitted(self) -> frozenset[str]:
        return self.decision.permitted

    def consent_of(self, categories: Iterable[str]) -> tuple[str | None, int | None]:
        """The grant (id, version) the first permitted category relied on."""
        wanted = set(categories)
        for item in self.decision.categories:
            if item.permitted and item.category in wanted and item.grant_id:
                version = None
                if self.state is not None:
                    version = next((g.version for g in self.state.grants if g.grant_id == item.grant_id), None)
                return item.grant_id, version
        return None, None


_UNREAD = object()


def judge(uow: RecordUnitOfWork, ctx: RecordContext, principal: Principal, beneficiary_id: str,
          action: str, categories: Iterable[str], purpose: str, now: datetime, *,
          teams: frozenset[str] | None = None, state: ConsentState | None | object = _UNREAD) -> Verdict:
    """``state``: the person's consent when the caller has just read it (``person_at_read``)."""
    if state is _UNREAD:
        state = uow.consent_state(beneficiary_id)
    assert state is None or isinstance(state, ConsentState)
    if teams is None:
        teams = uow.teams_of(principal.subject)
    actor = Actor(principal.subject, principal.role, principal.organisation, principal.profession,
                  teams)
    question = Question(beneficiary_id, action, tuple(categories), purpose, now)
    return Verdict(decide(state, actor, question, ctx.policy), state)


def audit(uow: RecordUnitOfWork, principal: Principal, request_id: str | None, *, action: str,
          crude: Crude, beneficiary_id: str, categories: Iterable[str] = (),
          entry_ids: Iterable[str] = (), purpose: str = "care_coordination",
          verdict: Verdict | None = None, outcome: str = "permit", reason: str | None = None) -> None:
    categories = tuple(sorted(set(categories)))
    grant_id, version = verdict.consent_of(categories) if verdict and outcome == "permit" else (None, None)
    record_access(uow, principal, Access(
        action=action, crude=crude, beneficiary_id=beneficiary_id, categories=categories,
        entry_ids=tuple(entry_ids), purpose=purpose, outcome=outcome,  # type: ignore[arg-type]
        reason=reason or (verdict.decision.categories[0].reason if verdict and verdict.decision.categories else None),
        consent_grant_id=grant_id, consent_version=version,
    ), service=SERVICE, request_id=request_id)


def refuse(uow: RecordUnitOfWork, ctx: RecordContext, principal: Principal, request_id: str | None,
           *, action: str, crude: Crude, beneficiary_id: str, categories: Iterable[str],
           purpose: str, verdict: Verdict, now: datetime) -> None:
    """Audit a refused access, commit that, and raise the answer the caller may be given."""
    reasons = sorted({c.reason for c in verdict.decision.categories if not c.permitted})
    audit(uow, principal, request_id, action=action, crude=crude, beneficiary_id=beneficiary_id,
          categories=categories, purpose=purpose, outcome="deny", reason=",".join(reasons) or None)
    uow.commit()
    sees_something = judge(uow, ctx, principal, beneficiary_id, "read", CATEGORIES,
                           "care_coordination", now).permitted
    if sees_something:
        raise Forbidden("Your access to this person does not cover this.")
    raise NotVisible(beneficiary_id)


def is_own_record(principal: Principal, beneficiary_id: str) -> bool:
    return principal.role == "beneficiary" and principal.beneficiary == beneficiary_id
