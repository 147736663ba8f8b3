"""Engines and sessions: one engine per database URL per process, configured for the dialect."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every sqlite use
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


# A pooled connection back from use less than this long ago is handed out as it is; one that
# waited longer is pinged first and replaced if the server no longer answers on it (restarted,
# or the connection was cut while idle). SQLAlchemy's pool_pre_ping would ping before every
# checkout: one more round trip for every request of a busy service, when the connection was
# in use a few milliseconds earlier.
PING_AFTER_IDLE_SECONDS = 1.0


def ping_idle_connections(engine: Engine, idle_seconds: float | None = None) -> None:
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info["relais_returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection, record, _proxy):
        returned = record.info.get("relais_returned_at")
        limit = PING_AFTER_IDLE_SECONDS if idle_seconds is None else idle_seconds
        if returned is None or time.monotonic() - returned < limit:
            return  # new, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any driver error: this connection is gone
            raise exc.DisconnectionError("the pooled connection no longer answers") from error
        if not alive:
            raise exc.DisconnectionError("the pooled connection no longer answers")


def make_engine(url: str) -> Engine:
    """A new engine for ``url``. SQLite files get their directory created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_recycle=1800,
        # Sessions speak UTC whatever the server's TimeZone: times come back as datetime.UTC
        # (nothing to convert per row) and SQL that casts a time to a date means the same
        # everywhere.
        connect_args={"connect_timeout": 5, "application_name": "relais",
                      "options": "-c TimeZone=UTC"},
    )
    ping_idle_connections(engine)
    return engine


def get_engine(url: str) -> Engine:
    """The process-wide engine for ``url`` (created on first use)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (after fork, or at the end of a test)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not ready"
        return False


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in ``url`` if it does not exist yet.

    Returns True when it was created. SQLite files are created on first connect.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    name = parsed.database
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if exists:
                return False
            quoted = connection.dialect.identifier_preparer.quote(name)
            connection.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()
