from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from services.audit.adapters.repository import AuditLogRepository


class AuditUnitOfWork:
    """The audit service writes to its own log, not through an outbox."""

    log: AuditLogRepository

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> AuditUnitOfWork:
        self.session = self._sessions()
        self.log = AuditLogRepository(self.session)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
