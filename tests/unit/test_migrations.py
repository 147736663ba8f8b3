"""Each service's migration history on SQLite: up, down to nothing, up again, and in step with
the tables its ORM metadata declares."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from shared.config import SERVICES
from shared.db.migrations import current_revision, downgrade, upgrade, version_table


def metadata_of(service):
    return importlib.import_module(f"services.{service}.adapters.orm").metadata


@pytest.fixture
def url(tmp_path):
    def make(service):
        return f"sqlite:///{tmp_path / (service + '.db')}"

    return make


def inspected(database_url):
    engine = create_engine(database_url)
    try:
        inspector = inspect(engine)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def declared(service):
    return {name: set(table.columns.keys()) for name, table in metadata_of(service).tables.items()}


def test_there_are_five_services():
    assert SERVICES == ("gateway", "consent", "record", "alerts", "audit")


@pytest.mark.parametrize("service", SERVICES)
def test_upgrade_downgrade_upgrade(service, url):
    database_url = url(service)
    assert current_revision(service, database_url) is None

    upgrade(service, database_url)
    head = current_revision(service, database_url)
    assert head is not None
    assert set(declared(service)) <= set(inspected(database_url))

    downgrade(service, database_url, "base")
    assert current_revision(service, database_url) is None
    assert set(inspected(database_url)) <= {version_table(service)}

    upgrade(service, database_url)
    assert current_revision(service, database_url) == head
    assert set(declared(service)) <= set(inspected(database_url))


@pytest.mark.parametrize("service", SERVICES)
def test_upgrade_twice_is_harmless(service, url):
    database_url = url(service)
    upgrade(service, database_url)
    upgrade(service, database_url)
    assert current_revision(service, database_url) is not None


@pytest.mark.parametrize("service", SERVICES)
def test_tables_and_columns_match_the_orm_metadata(service, url):
    database_url = url(service)
    upgrade(service, database_url)
    tables = inspected(database_url)
    expected = declared(service)
    assert expected, f"{service} declares no tables"
    assert set(tables) == set(expected) | {version_table(service)}
    for name, columns in expected.items():
        assert tables[name] == columns, f"{service}.{name}"


@pytest.mark.parametrize("service", SERVICES)
def test_no_drift_between_migrations_and_metadata(service, url):
    """Beyond names: types, nullability and indexes, as alembic's autogenerate sees them."""
    database_url = url(service)
    upgrade(service, database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "version_table": version_table(service)},
            )
            differences = compare_metadata(context, metadata_of(service))
    finally:
        engine.dispose()
    assert differences == []
