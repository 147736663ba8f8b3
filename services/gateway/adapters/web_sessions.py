"""Server-side sessions of the web pages, in the gateway's database.

The browser holds only a random session id in an HttpOnly cookie; what the session holds (the
person's tokens, the CSRF secret, the sign-in in progress) stays here, sealed with a key
derived from the gateway key and bound to the session, and is found by a hash of the id, so a
copy of the table opens no session. A session ends after ``idle_seconds`` without a request;
every gateway process sees the same sessions."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SessionInterface
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.gateway.adapters.orm import web_sessions
from services.gateway.adapters.secret_box import SealedValueError, SecretBox

_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
TOUCH_EVERY_SECONDS = 60.0
PURGE_EVERY_SECONDS = 300.0
LOCK_STRIPES = 64


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class WebSession(SecureCookieSession):
    """A dict that knows its id, whether it is new, and whether its id must change (at
    sign-in, so that an id planted before the sign-in is worth nothing after it)."""

    def __init__(self, initial: dict[str, Any] | None = None, session_id: str | None = None,
                 expires_at: float = 0.0) -> None:
        super().__init__(initial or {})
        self.session_id = session_id
        self.expires_at = expires_at
        self.renew_id = False

    def regenerate(self) -> None:
        self.renew_id = True
        self.modified = True


class WebSessionStore:
    def __init__(self, sessions: sessionmaker[Session], box: SecretBox, idle_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.sessions = sessions
        self.box = box
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._last_purge = 0.0
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def _open(self, id_hash: str, sealed: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.box.open(sealed, id_hash))
        except (SealedValueError, ValueError):
            return None

    def load(self, session_id: str) -> tuple[dict[str, Any], float] | None:
        id_hash = _digest(session_id)
        with self.sessions() as session:
            row = session.execute(select(web_sessions).where(web_sessions.c.id_hash == id_hash)).first()
        if row is None or row.expires_at <= self.clock():
            return None
        data = self._open(id_hash, row.data)
        return None if data is None else (data, row.expires_at)

    def save(self, session_id: str | None, data: dict[str, Any]) -> tuple[str, float]:
        """Store ``data`` under ``session_id`` (a new id when None); returns (id, expiry)."""
        now = self.clock()
        expires_at = now + self.idle_seconds
        created = session_id is None
        session_id = session_id or secrets.token_urlsafe(32)
        id_hash = _digest(session_id)
        sealed = self.box.seal(json.dumps(data, separators=(",", ":")).encode(), id_hash)
        with self.sessions() as session, session.begin():
            if created:
                session.execute(insert(web_sessions).values(id_hash=id_hash, data=sealed, created_at=now,
                                                            expires_at=expires_at))
            else:
                done = session.execute(update(web_sessions).where(web_sessions.c.id_hash == id_hash)
                                       .values(data=sealed, expires_at=expires_at))
                if done.rowcount == 0:  # ended meanwhile (sign-out elsewhere, expiry): a new one
                    return self.save(None, data)
        self._purge_now_and_then(now)
        return session_id, expires_at

    def touch(self, session_id: str) -> float:
        expires_at = self.clock() + self.idle_seconds
        with self.sessions() as session, session.begin():
            session.execute(update(web_sessions).where(web_sessions.c.id_hash == _digest(session_id))
                            .values(expires_at=expires_at))
        return expires_at

    def delete(self, session_id: str) -> None:
        with self.sessions() as session, session.begin():
            session.execute(delete(web_sessions).where(web_sessions.c.id_hash == _digest(session_id)))

    @contextmanager
    def exclusive(self, session_id: str) -> Iterator[tuple[dict[str, Any] | None, Callable[[dict], None]]]:
        """The stored data of one session, read under a lock (a thread lock in this process, a
        row lock on PostgreSQL across processes), with a function that rewrites it before the
        lock is released: two requests never refresh the same tokens at once."""
        id_hash = _digest(session_id)
        lock = self._locks[int(id_hash[:8], 16) % LOCK_STRIPES]
        with lock, self.sessions() as session, session.begin():
            row = session.execute(select(web_sessions).where(web_sessions.c.id_hash == id_hash)
                                  .with_for_update()).first()
            data = self._open(id_hash, row.data) if row is not None else None

            def write(new: dict[str, Any]) -> None:
                sealed = self.box.seal(json.dumps(new, separators=(",", ":")).encode(), id_hash)
                session.execute(update(web_sessions).where(web_sessions.c.id_hash == id_hash)
                                .values(data=sealed, expires_at=self.clock() + self.idle_seconds))

            yield data, write

    def _purge_now_and_then(self, now: float) -> None:
        if now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        with self.sessions() as session, session.begin():
            session.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))


class ServerSideSessions(SessionInterface):
    """Flask's session, kept in the gateway's database; the cookie carries only the id."""

    def __init__(self, store: WebSessionStore) -> None:
        self.store = store

    def open_session(self, app: Flask, request: Request) -> WebSession:
        session_id = request.cookies.get(self.get_cookie_name(app), "")
        if _SESSION_ID.match(session_id):
            found = self.store.load(session_id)
            if found is not None:
                return WebSession(found[0], session_id, found[1])
        return WebSession()

    def save_session(self, app: Flask, session: WebSession, response: Response) -> None:  # type: ignore[override]
        name = self.get_cookie_name(app)
        cookie = {
            "domain": self.get_cookie_domain(app), "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app), "httponly": True,
            "samesite": self.get_cookie_samesite(app),
        }
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            if session.session_id is not None:
                self.store.delete(session.session_id)
                response.delete_cookie(name, **cookie)
            return
        if session.modified:
            if session.renew_id and session.session_id is not None:
                self.store.delete(session.session_id)
                session.session_id = None
            session_id, _ = self.store.save(session.session_id, dict(session))
            if session_id != session.session_id:
                # A browser-session cookie: it ends when the browser closes, or idles out here.
                response.set_cookie(name, session_id, **cookie)
            return
        if session.session_id and session.expires_at - self.store.clock() < self.store.idle_seconds - TOUCH_EVERY_SECONDS:
            self.store.touch(session.session_id)
