"""A unit of work owns one database session and the outbox of the same transaction.

Handlers receive a unit of work and call ``publish`` for the events their change causes;
``commit`` makes the change and its events durable together, and leaving the block without a
commit rolls both back. Services subclass it to add their repositories.
"""

from __future__ import annotations

from typing import Any

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
        self.published: list[Envelope] = []

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.published = []
        self.started()
        return self

    def started(self) -> None:
        """Hook for subclasses: build repositories on ``self.session``."""

    def __exit__(self, *exc_info: Any) -> None:
        if not self._autocommit:
            self.session.rollback()
        self.session.close()

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
            self.session, event_type, payload, correlation_id=correlation_id, version=version,
            urgent=urgent,
        )
        self.published.append(envelope)
        return envelope
