"""Migrations on a fresh database of each backend: up, down to nothing, up again; and the
models say exactly what the migrations build."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from billstream.db.engine import make_engine
from billstream.db.migrate import current_revision, downgrade, head_revision, upgrade
from billstream.migrations.models import metadata

TABLES = {"tenants", "accounts", "api_keys", "phone_numbers", "number_assignments"}


@pytest.fixture
def fresh_engine(backend: str, new_database_url: Callable[[str], str]) -> Iterator[Engine]:
    engine = make_engine(new_database_url(backend))
    yield engine
    engine.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_and_upgrade_again(fresh_engine: Engine) -> None:
    # given an empty database
    assert tables(fresh_engine) == set()
    # when migrated to head
    upgrade(fresh_engine)
    # then every table exists at the head revision
    assert current_revision(fresh_engine) == head_revision() is not None
    assert tables(fresh_engine) == set(metadata.tables)
    assert tables(fresh_engine) >= TABLES
    # when migrated down to base, no billstream table remains
    downgrade(fresh_engine, "base")
    assert current_revision(fresh_engine) is None
    assert tables(fresh_engine) == set()
    # and up again gives the same schema
    upgrade(fresh_engine)
    assert tables(fresh_engine) == set(metadata.tables)


def test_the_models_match_the_migrations(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
