"""Migrations apply cleanly (SQLite and PostgreSQL) and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from heldout.catalog.db import Catalog
from heldout.catalog.models import Base


def test_upgrade_creates_every_table_and_matches_models(database_url: str) -> None:
    catalog = Catalog(database_url)
    catalog.upgrade()
    catalog.upgrade()  # idempotent
    tables = set(inspect(catalog.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    with catalog.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    catalog.dispose()


def test_unreachable_database_is_a_typed_error() -> None:
    import pytest

    from heldout.errors import DatabaseUnavailable

    catalog = Catalog("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(DatabaseUnavailable, match="unreachable"):
        catalog.ping()
    with pytest.raises(DatabaseUnavailable):
        catalog.upgrade()
