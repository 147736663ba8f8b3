from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import String, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from services.record.adapters.orm import people, person_keys, projection
from services.record.adapters.repository import PERSON_COLUMNS, JourneyRepository, PersonState
from shared.bus.outbox import Outbox
from shared.consent.decision import ConsentState
from shared.db.statements import DirectStatement
from shared.db.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PersonAtRead:
    """What a read needs before it reads a person's journey, in one statement: their consent as
    record's projection holds it, their wrapped data key, their read model row, and the care
    teams of the reader."""

    consent: ConsentState | None
    wrapped_key: bytes | None
    person: PersonState | None
    teams: frozenset[str]
    timeline_head: bytes | None = None  # sealed (domain/timeline_head.py)


def _person_at_read_statement():
    asked = select(bindparam("beneficiary_id", type_=String).label("beneficiary_id")).subquery("asked")
    consent = projection.people
    members = projection.team_members
    return (
        select(*projection.state_columns, person_keys.c.wrapped_key, members.c.team_id, *PERSON_COLUMNS,
               people.c.timeline_head)
        .select_from(asked)
        .outerjoin(consent, consent.c.beneficiary_id == asked.c.beneficiary_id)
        .outerjoin(person_keys, person_keys.c.beneficiary_id == asked.c.beneficiary_id)
        .outerjoin(people, people.c.beneficiary_id == asked.c.beneficiary_id)
        # One row per team of the reader (one row, with no team, when they are in none).
        .outerjoin(members, members.c.subject == bindparam("subject", type_=String))
    )


_PERSON_AT_READ = DirectStatement(_person_at_read_statement())


class RecordUnitOfWork(UnitOfWork):
    journey: JourneyRepository

    def __init__(self, sessions: sessionmaker[Session], outbox: Outbox, *,
                 keep_heads: Callable[[RecordUnitOfWork], None] | None = None,
                 autocommit: bool = False) -> None:
        super().__init__(sessions, outbox, autocommit=autocommit)
        # Called before each commit that changed a journey, to bring the heads of the changed
        # timelines up to date in the same transaction (handlers/heads.py).
        self._keep_heads = keep_heads

    def started(self) -> None:
        self.journey = JourneyRepository(self.session)

    def commit(self) -> None:
        if self.journey.changed:
            if self._keep_heads is not None:
                self._keep_heads(self)
            else:  # nothing here knows how to make a head: drop it, reads go to the entries
                for beneficiary_id in self.journey.changed:
                    self.journey.save_timeline_head(beneficiary_id, None)
            self.journey.changed.clear()
        super().commit()

    def rollback(self) -> None:
        self.journey.changed.clear()
        super().rollback()

    def consent_state(self, beneficiary_id: str) -> ConsentState | None:
        return projection.state(self.session, beneficiary_id)

    def person_at_read(self, beneficiary_id: str, subject: str) -> PersonAtRead:
        rows = _PERSON_AT_READ.rows(self.connection(),
                                    {"beneficiary_id": beneficiary_id, "subject": subject})
        row = rows[0]
        epoch, erased, document, wrapped_key = row[0], row[1], row[2], row[3]
        state = projection.state_of(self.session, beneficiary_id, epoch, erased, document)
        person = PersonState(*row[5:11]) if row[5] is not None else None
        teams = frozenset(r[4] for r in rows if r[4] is not None)
        return PersonAtRead(state, wrapped_key, person, teams, row[11])

    def teams_of(self, subject: str) -> frozenset[str]:
        return projection.teams_of(self.session, subject)
