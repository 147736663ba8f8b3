"""Database helpers shared by every service: engines, sessions, migrations."""

from shared.db.engine import (
    database_reachable,
    dispose_engines,
    ensure_database,
    get_engine,
    make_engine,
    session_factory,
)

__all__ = [
    "database_reachable",
    "dispose_engines",
    "ensure_database",
    "get_engine",
    "make_engine",
    "session_factory",
]
