"""Waking the outbox relay when outbox rows commit: PostgreSQL LISTEN on the outbox channel."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

from shared.bus.outbox import OUTBOX_CHANNEL
from shared.logs import get_logger

log = get_logger("relais.relay")


class OutboxListener:
    """Calls ``wake`` whenever a transaction that wrote outbox rows commits (PostgreSQL
    ``LISTEN`` on a connection of its own, kept out of the engine's pool), and once each time
    it starts listening, for rows committed while it was not. Reconnects with back-off."""

    def __init__(self, engine: Engine, wake: Callable[[], None], stopping: threading.Event) -> None:
        self.engine = engine
        self.wake = wake
        self.stopping = stopping
        self.backend_pid: int | None = None  # the listening session, for tests

    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            connection = None
            try:
                connection = self.engine.raw_connection()
                driver = connection.driver_connection
                connection.detach()  # its own session for as long as it listens
                driver.rollback()
                driver.autocommit = True
                driver.execute(f"LISTEN {OUTBOX_CHANNEL}")
                self.backend_pid = driver.info.backend_pid
                backoff = 0.5
                self.wake()
                while not self.stopping.is_set():
                    for _notification in driver.notifies(timeout=0.5):
                        self.wake()
            except Exception as exc:  # the database is away: the poll covers the meantime
                if self.stopping.is_set():
                    break
                log.warning("relay cannot listen for outbox rows, retrying", error=type(exc).__name__,
                            backoff_seconds=backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self.backend_pid = None
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:
                        pass
