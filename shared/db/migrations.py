"""Alembic, one migration history per service, each with its own version table."""

from __future__ import annotations

from importlib import resources

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from shared.db.engine import ensure_database, make_engine


def version_table(service: str) -> str:
    return f"alembic_version_{service}"


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    location = resources.files(f"services.{service}") / "migrations"
    config.set_main_option("script_location", str(location))
    config.attributes["database_url"] = database_url
    config.attributes["service"] = service
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    """Create the database if needed and bring it to ``revision``."""
    ensure_database(database_url)
    command.upgrade(alembic_config(service, database_url), revision)


def downgrade(service: str, database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(service, database_url), revision)


def current_revision(service: str, database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            ctx = MigrationContext.configure(
                connection, opts={"version_table": version_table(service)}
            )
            return ctx.get_current_revision()
    finally:
        engine.dispose()


def run_migrations(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config
    service = config.attributes["service"]
    url = config.attributes["database_url"]
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, metadata, service)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection, metadata, service)
    finally:
        engine.dispose()


def _run(connection, metadata: MetaData, service: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table(service),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
