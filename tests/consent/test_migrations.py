"""The consent migrations build exactly the tables the code declares, and go back down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from services.consent.adapters import orm
from shared.db.migrations import downgrade, upgrade


def test_upgrade_matches_the_metadata_and_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'consent.db'}"
    upgrade("consent", url)
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = [d for d in compare_metadata(context, orm.metadata)
                       if not (isinstance(d, tuple) and d[0] == "remove_table"
                               and d[1].name.startswith("alembic_version"))]
    assert differences == []
    downgrade("consent", url, "consent_0001")
    tables = set(inspect(create_engine(url)).get_table_names())
    assert "grant_versions" not in tables and "consent_people" not in tables
    assert "beneficiaries" in tables
    engine.dispose()
