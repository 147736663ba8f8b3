"""A unit of work owns one database session and the outbox of the same transaction.

Handlers receive a unit of work and call ``publish`` for the events their change causes;
``commit`` makes the change and its events durable together, and leaving the block without a
commit rolls both back. Services subclass it to add their repositories.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from shared.bus.envelope import Envelope
from shared.bus.outbox import Outbox


class UnitOfWork:
    session: Session

    def __init__(self, sessions: sessionmaker[Session], outbox: Outbox, *, autocommit: bool = False) -> None:
        """``autocommit``: ``sessions`` commit every statement on their own (the runtime's
        ``read_sessions``), so there is no transaction to commit or roll back, only the
        connection to give back."""
        self._sessions = sessions
        self._outbox = outbox
        self._autocommit = autocommit
        self._connection: Connection | None = None
        self.published: list[Envelope] = []

    def __enter__(self) -> UnitOfWork:
        if self._autocommit:
            self._connection = self._sessions.kw["bind"].connect()
            self.session = self._sessions(bind=self._connection)
        else:
            self.session = self._sessions()
        self.published = []
        self.started()
        return self

    def connection(self) -> Connection:
        """Where statements that need no ORM run (``DirectStatement``s, the outbox's insert): the
        session's connection, in its transaction. With ``autocommit`` there is no transaction,
        so the unit of work takes a connection itself and binds its session to it: statements
        run on it straight away, without the session's bookkeeping of a transaction (which cost
        a read more than taking the connection and giving it back), and what goes through the
        session runs on the same connection."""
        if self._connection is not None:
            return self._connection
        return self.session.connection()

    def started(self) -> None:
        """Hook for subclasses: build repositories on ``self.session``."""

    def __exit__(self, *exc_info: Any) -> None:
        if not self._autocommit:
            self.session.rollback()
        self.session.close()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def commit(self) -> None:
        if not self._autocommit:
            self.session.commit()

    def rollback(self) -> None:
        if not self._autocommit:
            self.session.rollback()

    def publish(
        self,
        event_type: str,
        payload: dict[str, Any],
        *,
        correlation_id: str | None = None,
        version: int = 1,
        urgent: bool = False,
    ) -> Envelope:
        envelope = self._outbox.add(
            self.connection(), event_type, payload, correlation_id=correlation_id, version=version,
            urgent=urgent,
        )
        self.published.append(envelope)
        return envelope
