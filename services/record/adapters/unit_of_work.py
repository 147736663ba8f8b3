from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, bindparam, select

from services.record.adapters.orm import people, person_keys, projection
from services.record.adapters.repository import PERSON_COLUMNS, JourneyRepository, PersonState
from shared.consent.decision import ConsentState
from shared.db.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PersonAtRead:
    """What a read needs of one person before it reads their journey, in one statement: their
    consent as record's projection holds it, their wrapped data key, their read model row."""

    consent: ConsentState | None
    wrapped_key: bytes | None
    person: PersonState | None


def _person_at_read_statement():
    asked = select(bindparam("beneficiary_id", type_=String).label("beneficiary_id")).subquery("asked")
    consent = projection.people
    return (
        select(*projection.state_columns, person_keys.c.wrapped_key, *PERSON_COLUMNS)
        .select_from(asked)
        .outerjoin(consent, consent.c.beneficiary_id == asked.c.beneficiary_id)
        .outerjoin(person_keys, person_keys.c.beneficiary_id == asked.c.beneficiary_id)
        .outerjoin(people, people.c.beneficiary_id == asked.c.beneficiary_id)
    )


_PERSON_AT_READ = _person_at_read_statement()


class RecordUnitOfWork(UnitOfWork):
    journey: JourneyRepository

    def started(self) -> None:
        self.journey = JourneyRepository(self.session)

    def consent_state(self, beneficiary_id: str) -> ConsentState | None:
        return projection.state(self.session, beneficiary_id)

    def person_at_read(self, beneficiary_id: str) -> PersonAtRead:
        row = self.session.connection().execute(_PERSON_AT_READ, {"beneficiary_id": beneficiary_id}).one()
        epoch, erased, document, wrapped_key = row[0], row[1], row[2], row[3]
        state = projection.state_of(self.session, beneficiary_id, epoch, erased, document)
        person = PersonState(*row[4:]) if row[4] is not None else None
        return PersonAtRead(state, wrapped_key, person)

    def teams_of(self, subject: str) -> frozenset[str]:
        return projection.teams_of(self.session, subject)
