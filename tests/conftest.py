"""Fixtures shared by every test: databases (SQLite and PostgreSQL), sessions, runtime.

Every test that takes `session` (or `runtime`) runs once per database. Each database is
created and migrated once per test run; each test runs inside a transaction that is rolled
back, and services' and routes' commits become savepoints, so tests see real SQL, real
constraints and real commits, and leave nothing behind.

PostgreSQL comes from BILLSTREAM_TEST_DATABASE_URL (default: the local server). Each run
creates its own database there and drops it at the end. Where no PostgreSQL answers, its
tests skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from billstream.bootstrap import Runtime
from billstream.core.clock import FakeClock
from billstream.db.engine import make_engine
from billstream.db.migrate import upgrade
from billstream.settings import Settings

# Hypothesis checks what a property holds, never how fast: its default 200 ms deadline per
# example fails on a loaded machine (the suite runs on every core). Speed is the benchmarks'.
settings.register_profile("billstream", deadline=None)
settings.load_profile("billstream")

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PEPPER = b"test-pepper"
START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def pg_admin_url() -> str:
    return os.environ.get("BILLSTREAM_TEST_DATABASE_URL", DEFAULT_PG_URL)


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not reachable ({reason}); set BILLSTREAM_TEST_DATABASE_URL")


class PostgresDatabases:
    """Creates throw-away databases on the test server and drops them at the end."""

    def __init__(self) -> None:
        self.admin: Engine | None = None
        self.created: list[str] = []

    def create(self) -> str:
        url = make_url(pg_admin_url())
        if self.admin is None:
            self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        name = f"billstream_test_{os.getpid()}_{secrets.token_hex(4)}"
        try:
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except OperationalError as exc:
            _skip_or_fail(str(exc.orig).strip().splitlines()[0])
        self.created.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def new_database_url(
    tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases
):  # type: ignore[no-untyped-def]
    """A function making an empty database of a backend: ``new_database_url("postgresql")``."""

    def make(backend: str) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "billstream.sqlite"
            return f"sqlite:///{path}"
        return postgres_databases.create()

    return make


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(backend: str, new_database_url) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """A migrated database of `backend`, shared by the whole run."""
    engine = make_engine(new_database_url(backend))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def runtime(
    engine: Engine, session_factory: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> Runtime:
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        clock=clock,
        pepper=PEPPER,
    )
