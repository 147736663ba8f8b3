"""Administration commands of the gateway (run from the `relais admin` command line)."""

from __future__ import annotations

from services.gateway.adapters.clients import ClientRepository
from services.gateway.app import key_store
from services.gateway.domain.scopes import unknown_scopes
from shared.config import load_settings
from shared.db.engine import get_engine, session_factory


def create_client(
    name: str, scopes: list[str], organisation: str | None, profession: str | None
) -> tuple[str, str]:
    bad = unknown_scopes(scopes)
    if bad:
        raise ValueError(f"unknown scope(s): {', '.join(bad)}")
    settings = load_settings("gateway")
    sessions = session_factory(get_engine(settings.database_url))
    with sessions() as session, session.begin():
        return ClientRepository(session).create(
            name, scopes, organisation=organisation, profession=profession
        )


def rotate_keys() -> str:
    return key_store(load_settings("gateway")).rotate()



