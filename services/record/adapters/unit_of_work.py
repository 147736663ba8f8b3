from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, bindparam, select

from services.record.adapters.orm import people, person_keys, projection
from services.record.adapters.repository import PERSON_COLUMNS, JourneyRepository, PersonState
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


def _person_at_read_statement():
    asked = select(bindparam("beneficiary_id", type_=String).label("beneficiary_id")).subquery("asked")
    consent = projection.people
    members = projection.team_members
    return (
        select(*projection.state_columns, person_keys.c.wrapped_key, members.c.team_id, *PERSON_COLUMNS)
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

    def started(self) -> None:
        self.journey = JourneyRepository(self.session)

    def consent_state(self, beneficiary_id: str) -> ConsentState | None:
        return projection.state(self.session, beneficiary_id)

    def person_at_read(self, beneficiary_id: str, subject: str) -> PersonAtRead:
        rows = _PERSON_AT_READ.rows(self.session.connection(),
                                    {"beneficiary_id": beneficiary_id, "subject": subject})
        row = rows[0]
        epoch, erased, document, wrapped_key = row[0], row[1], row[2], row[3]
        state = projection.state_of(self.session, beneficiary_id, epoch, erased, document)
        person = PersonState(*row[5:]) if row[5] is not None else None
        teams = frozenset(r[4] for r in rows if r[4] is not None)
        return PersonAtRead(state, wrapped_key, person, teams)

    def teams_of(self, subject: str) -> frozenset[str]:
        return projection.teams_of(self.session, subject)
