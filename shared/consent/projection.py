"""Applying ``consent.*`` events to the projection tables, and reading a person's consent state
back from them. Applying is idempotent and order-tolerant: each row keeps the version (grants)
or the epoch (people) of the newest event that wrote it, and an older event changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, MetaData, Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from shared.bus.envelope import Envelope
from shared.bus.outbox import Outbox
from shared.consent import events
from shared.consent.decision import ConsentState, EmergencyTerms, ExclusionTerms, GrantTerms
from shared.consent.tables import add_consent_projection_tables

Handler = Callable[[Session, Envelope], None]


def encode_document(state: ConsentState) -> str:
    """A person's active grants, exclusions and emergencies as the compact JSON kept with them."""
    return json.dumps({
        "g": [[g.grant_id, g.version, g.grantee_kind, g.grantee, " ".join(sorted(g.categories)),
               g.purpose, " ".join(sorted(g.actions)), g.valid_from.isoformat(),
               g.valid_until.isoformat() if g.valid_until else None, g.referent]
              for g in state.grants],
        "x": [[x.exclusion_id, x.kind, x.target] for x in state.exclusions],
        "e": [[e.access_id, e.subject, " ".join(sorted(e.categories)), e.opened_at.isoformat(),
               e.until.isoformat()] for e in state.emergencies],
    }, separators=(",", ":"))


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _codes(values: list[str]) -> str:
    return " ".join(sorted(set(values)))


@lru_cache(maxsize=4096)
def _state_of_document(beneficiary_id: str, epoch: int, text: str) -> ConsentState:
    """A person's consent from its stored document. The same text always gives the same
    (immutable) state, so each text is parsed once per process: every access reads it."""
    document = json.loads(text)
    return ConsentState(
        beneficiary_id,
        tuple(GrantTerms(g[0], g[1], g[2], g[3], frozenset(g[4].split()), g[5],
                         frozenset(g[6].split()), datetime.fromisoformat(g[7]),
                         datetime.fromisoformat(g[8]) if g[8] else None, g[9])
              for g in document["g"]),
        tuple(ExclusionTerms(x[0], x[1], x[2]) for x in document["x"]),
        tuple(EmergencyTerms(e[0], e[1], frozenset(e[2].split()), datetime.fromisoformat(e[3]),
                             datetime.fromisoformat(e[4])) for e in document["e"]),
        epoch,
    )


class ConsentProjection:
    """The projection tables of one service's metadata, with the code that fills and reads them."""

    def __init__(self, metadata: MetaData) -> None:
        existing = metadata.tables.get("consent_people")
        if existing is None:
            self.tables = add_consent_projection_tables(metadata)
        else:
            self.tables = {
                "people": existing,
                "grants": metadata.tables["consent_grants"],
                "exclusions": metadata.tables["consent_exclusions"],
                "emergencies": metadata.tables["consent_emergencies"],
                "team_members": metadata.tables["consent_team_members"],
            }
        self.people: Table = self.tables["people"]
        self.grants: Table = self.tables["grants"]
        self.exclusions: Table = self.tables["exclusions"]
        self.emergencies: Table = self.tables["emergencies"]
        self.team_members: Table = self.tables["team_members"]
        self._state_query = select(
            self.people.c.epoch, self.people.c.erased, self.people.c.document
        ).where(self.people.c.beneficiary_id == bindparam("beneficiary_id"))
        self._teams_query = select(self.team_members.c.team_id).where(
            self.team_members.c.subject == bindparam("subject"))

    # -- writing ------------------------------------------------------------------------------
    def apply(self, session: Session, event_type: str, payload: dict[str, Any]) -> bool:
        """Apply one event; returns True when it carried an epoch (a change to acknowledge)."""
        if event_type in (events.TEAM_MEMBER_ADDED, events.TEAM_MEMBER_REMOVED):
            self._team(session, event_type, payload)
            return False
        beneficiary_id = payload.get("beneficiary_id")
        if not beneficiary_id:
            return False
        epoch = int(payload.get("epoch", 0))
        self._bump_epoch(session, beneficiary_id, epoch, erased=event_type == events.BENEFICIARY_ERASED)
        if event_type == events.GRANT_GIVEN:
            self._grant_given(session, payload)
        elif event_type in (events.GRANT_REVOKED, events.GRANT_EXPIRED):
            self._grant_ended(session, payload)
        elif event_type == events.EXCLUSION_ADDED:
            self._upsert(session, self.exclusions, "exclusion_id", payload["exclusion_id"], {
                "beneficiary_id": beneficiary_id, "kind": payload["kind"],
                "target": payload["target"], "active": True}, only_if_new=True)
        elif event_type == events.EXCLUSION_LIFTED:
            self._upsert(session, self.exclusions, "exclusion_id", payload["exclusion_id"], {
                "beneficiary_id": beneficiary_id, "kind": "", "target": "", "active": False},
                update_only={"active": False})
        elif event_type == events.EMERGENCY_OPENED:
            self._upsert(session, self.emergencies, "access_id", payload["access_id"], {
                "beneficiary_id": beneficiary_id, "subject": payload["subject"],
                "categories": _codes(payload["categories"]), "opened_at": _dt(payload["opened_at"]),
                "until": _dt(payload["until"]), "active": True}, only_if_new=True)
        elif event_type == events.EMERGENCY_CLOSED:
            at = _dt(payload.get("at")) or datetime.fromtimestamp(0).astimezone()
            self._upsert(session, self.emergencies, "access_id", payload["access_id"], {
                "beneficiary_id": beneficiary_id, "subject": "", "categories": "",
                "opened_at": at, "until": at, "active": False}, update_only={"active": False})
        elif event_type == events.BENEFICIARY_ERASED:
            for table in (self.grants, self.exclusions, self.emergencies):
                session.execute(delete(table).where(table.c.beneficiary_id == beneficiary_id))
        self._refresh_document(session, beneficiary_id)
        return "epoch" in payload

    def _refresh_document(self, session: Session, beneficiary_id: str) -> None:
        state = self._state_from_rows(session, beneficiary_id, 0)
        session.execute(update(self.people).where(self.people.c.beneficiary_id == beneficiary_id)
                        .values(document=encode_document(state)))

    def _bump_epoch(self, session: Session, beneficiary_id: str, epoch: int, *, erased: bool) -> None:
        row = session.execute(
            select(self.people.c.epoch, self.people.c.erased)
            .where(self.people.c.beneficiary_id == beneficiary_id).with_for_update()
        ).first()
        if row is None:
            session.execute(insert(self.people).values(
                beneficiary_id=beneficiary_id, epoch=epoch, erased=erased))
        elif epoch > row.epoch or (erased and not row.erased):
            session.execute(update(self.people).where(
                self.people.c.beneficiary_id == beneficiary_id
            ).values(epoch=max(epoch, row.epoch), erased=row.erased or erased))

    def _grant_given(self, session: Session, payload: dict[str, Any]) -> None:
        values = {
            "beneficiary_id": payload["beneficiary_id"],
            "version": int(payload["version"]),
            "grantee_kind": payload["grantee_kind"],
            "grantee": payload["grantee"],
            "categories": _codes(payload["categories"]),
            "purpose": payload["purpose"],
            "actions": _codes(payload["actions"]),
            "valid_from": _dt(payload["valid_from"]),
            "valid_until": _dt(payload.get("valid_until")),
            "referent": bool(payload.get("referent", False)),
            "active": True,
        }
        self._versioned(session, payload["grant_id"], values)

    def _grant_ended(self, session: Session, payload: dict[str, Any]) -> None:
        at = _dt(payload.get("at"))
        values = {
            "beneficiary_id": payload["beneficiary_id"], "version": int(payload["version"]),
            "grantee_kind": "", "grantee": "", "categories": "", "purpose": "", "actions": "",
            "valid_from": at, "valid_until": at, "referent": False, "active": False,
        }
        self._versioned(session, payload["grant_id"], values, keep_terms=True)

    def _versioned(self, session: Session, grant_id: str, values: dict[str, Any], *,
                   keep_terms: bool = False) -> None:
        current = session.execute(
            select(self.grants.c.version).where(self.grants.c.grant_id == grant_id).with_for_update()
        ).scalar()
        if current is None:
            session.execute(insert(self.grants).values(grant_id=grant_id, **values))
        elif values["version"] > current:
            changes = {"version": values["version"], "active": False} if keep_terms else values
            session.execute(update(self.grants).where(self.grants.c.grant_id == grant_id).values(**changes))

    def _upsert(self, session: Session, table: Table, key: str, key_value: str,
                values: dict[str, Any], *, only_if_new: bool = False,
                update_only: dict[str, Any] | None = None) -> None:
        column = table.c[key]
        exists = session.execute(select(column).where(column == key_value)).first() is not None
        if not exists:
            session.execute(insert(table).values({key: key_value, **values}))
        elif update_only is not None:
            session.execute(update(table).where(column == key_value).values(**update_only))
        elif not only_if_new:
            session.execute(update(table).where(column == key_value).values(**values))

    def _team(self, session: Session, event_type: str, payload: dict[str, Any]) -> None:
        table = self.team_members
        where = (table.c.team_id == payload["team_id"]) & (table.c.subject == payload["subject"])
        session.execute(delete(table).where(where))
        if event_type == events.TEAM_MEMBER_ADDED:
            session.execute(insert(table).values(team_id=payload["team_id"], subject=payload["subject"]))

    # -- reading ------------------------------------------------------------------------------
    def state(self, session: Session | Connection, beneficiary_id: str) -> ConsentState | None:
        """The person's consent, or None when there is no such person here (or they were erased).
        One primary-key read of the person's document."""
        db = session.connection() if isinstance(session, Session) else session
        person = db.execute(self._state_query, {"beneficiary_id": beneficiary_id}).first()
        if person is None:
            return None
        return self.state_of(session, beneficiary_id, person.epoch, person.erased, person.document)

    @property
    def state_columns(self) -> tuple[Any, ...]:
        """What ``state_of`` needs of the person's row (epoch, erased, document), for a service
        that reads it in a statement of its own beside other rows of the same person."""
        return (self.people.c.epoch, self.people.c.erased, self.people.c.document)

    def state_of(self, session: Session | Connection, beneficiary_id: str, epoch: int | None,
                 erased: bool | None, document: str | None) -> ConsentState | None:
        """The consent of a person from their row's ``state_columns`` (all None: no such row)."""
        if epoch is None or erased:
            return None
        if document is None:
            return self._state_from_rows(session, beneficiary_id, epoch)
        return _state_of_document(beneficiary_id, epoch, document)

    def _state_from_rows(self, session: Session | Connection, beneficiary_id: str,
                         epoch: int) -> ConsentState:
        g = self.grants.c
        grants = tuple(
            GrantTerms(
                grant_id=row.grant_id, version=row.version, grantee_kind=row.grantee_kind,
                grantee=row.grantee, categories=frozenset(row.categories.split()),
                purpose=row.purpose, actions=frozenset(row.actions.split()),
                valid_from=row.valid_from, valid_until=row.valid_until, referent=row.referent,
            )
            for row in session.execute(
                select(self.grants).where(g.beneficiary_id == beneficiary_id, g.active.is_(True))
            )
        )
        x = self.exclusions.c
        exclusions = tuple(
            ExclusionTerms(row.exclusion_id, row.kind, row.target)
            for row in session.execute(
                select(self.exclusions).where(x.beneficiary_id == beneficiary_id, x.active.is_(True))
            )
        )
        e = self.emergencies.c
        emergencies = tuple(
            EmergencyTerms(row.access_id, row.subject, frozenset(row.categories.split()),
                           row.opened_at, row.until)
            for row in session.execute(
                select(self.emergencies).where(e.beneficiary_id == beneficiary_id, e.active.is_(True))
            )
        )
        return ConsentState(beneficiary_id, grants, exclusions, emergencies, epoch)

    def teams_of(self, session: Session, subject: str) -> frozenset[str]:
        return frozenset(session.connection().execute(self._teams_query, {"subject": subject}).scalars())

    # -- the bus entry point --------------------------------------------------------------------
    def handler(self, *, acknowledge_as: str | None = None, outbox: Outbox | None = None) -> Handler:
        """A consumer handler for ``consent.#``. With ``acknowledge_as`` and ``outbox``, every
        applied change is acknowledged by a ``<service>.consent_applied`` event written in the
        same transaction, which strict withdrawal waits for."""

        def handle(session: Session, envelope: Envelope) -> None:
            if not envelope.type.startswith("consent."):
                return
            changed = self.apply(session, envelope.type, envelope.payload)
            if changed and acknowledge_as and outbox is not None:
                outbox.add(
                    session,
                    f"{outbox.producer}{events.APPLIED_SUFFIX}",
                    {"projection": acknowledge_as,
                     "beneficiary_id": envelope.payload["beneficiary_id"],
                     "epoch": int(envelope.payload["epoch"]),
                     "event_id": envelope.id},
                    correlation_id=envelope.correlation_id,
                    urgent=True,  # a strict withdrawal waits for it
                )

        return handle
