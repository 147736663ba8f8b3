"""Failed sign-ins counted per account name and per address, in the gateway's database (so every
gateway process sees the same counts). Unknown names are counted like real ones."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.gateway.adapters.orm import login_failures
from services.gateway.domain.lockout import LockoutPolicy


class LoginThrottle:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        account_policy: LockoutPolicy,
        address_policy: LockoutPolicy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.policies = {"account": account_policy, "address": address_policy}
        self.clock = clock

    @staticmethod
    def keys(username: str, address: str) -> dict[str, str]:
        return {"account": f"account:{username.strip().lower()[:150]}", "address": f"address:{address}"}

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until a sign-in may be tried again (0 when it may be tried now)."""
        now = self.clock()
        keys = list(self.keys(username, address).values())
        with self.sessions() as session:
            rows = session.execute(
                select(login_failures.c.locked_until).where(login_failures.c.key.in_(keys))
            ).scalars()
            return max([0.0, *(until - now for until in rows)])

    def failed(self, username: str, address: str) -> None:
        try:
            self._count_failure(username, address)
        except IntegrityError:  # a concurrent first failure inserted the same key: count again
            self._count_failure(username, address)

    def _count_failure(self, username: str, address: str) -> None:
        now = self.clock()
        with self.sessions() as session, session.begin():
            for kind, key in self.keys(username, address).items():
                row = session.execute(
                    select(login_failures).where(login_failures.c.key == key).with_for_update()
                ).mappings().first()
                failures = (row["failures"] if row else 0) + 1
                values = {
                    "failures": failures,
                    "locked_until": now + self.policies[kind].lock_seconds(failures),
                    "last_failure_at": now,
                }
                if row is None:
                    session.execute(login_failures.insert().values(key=key, **values))
                else:
                    session.execute(update(login_failures).where(login_failures.c.key == key).values(**values))

    def succeeded(self, username: str) -> None:
        """A right password clears the account's count (not the address's: one good account
        must not reset a spray over many names)."""
        key = self.keys(username, "")["account"]
        with self.sessions() as session, session.begin():
            session.execute(delete(login_failures).where(login_failures.c.key == key))
