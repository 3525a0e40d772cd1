"""`/healthz` and `/readyz`: no API key; ready means the database answers and is at head."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from tests.conftest import PEPPER
from tests.e2e.conftest import Api, assert_problem

from billstream.app import create_app
from billstream.bootstrap import Runtime
from billstream.core.clock import FakeClock
from billstream.db.engine import make_engine, make_session_factory
from billstream.db.migrate import alembic_config, head_revision, upgrade
from billstream.settings import Settings


def _runtime(url: str, data_dir: Path, clock: FakeClock) -> Runtime:
    engine = make_engine(url)
    return Runtime(
        settings=Settings(data_dir=data_dir, database_url=url),
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock,
        pepper=PEPPER,
    )


def test_healthz_answers_without_a_key(api: Api) -> None:
    response = api.call(None, "GET", "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_at_head(api: Api) -> None:
    response = api.call(None, "GET", "/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "revision": head_revision()}


def test_readyz_names_the_revision_of_a_database_not_at_head(
    tmp_path: Path, clock: FakeClock
) -> None:
    # given a database migrated to the revision before head
    head = head_revision()
    assert head is not None
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    assert isinstance(previous, str)
    runtime = _runtime(f"sqlite:///{tmp_path / 'old.sqlite'}", tmp_path, clock)
    upgrade(runtime.engine, previous)
    # when a probe asks
    with TestClient(create_app(runtime)) as client:
        response = client.get("/readyz")
    runtime.close()
    # then it is not ready, saying at which revision the database is
    body = assert_problem(response, status=503, code="migrations_pending")
    assert body["detail"] == (
        f"the database is at revision {previous}, not {head}; run `billstream db upgrade`"
    )


def test_readyz_on_an_empty_database(tmp_path: Path, clock: FakeClock) -> None:
    runtime = _runtime(f"sqlite:///{tmp_path / 'empty.sqlite'}", tmp_path, clock)
    with TestClient(create_app(runtime)) as client:
        response = client.get("/readyz")
    runtime.close()
    body = assert_problem(response, status=503, code="migrations_pending")
    assert body["detail"].startswith("the database is at revision none, not ")


def test_readyz_when_the_database_does_not_answer(tmp_path: Path, clock: FakeClock) -> None:
    # given a PostgreSQL URL where nothing listens (port 9 on the loopback)
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"
    runtime = _runtime(url, tmp_path, clock)
    with TestClient(create_app(runtime)) as client:
        response = client.get("/readyz")
        health = client.get("/healthz")
    runtime.close()
    assert_problem(response, status=503, code="database_unreachable")
    # and the process itself is still up
    assert health.status_code == 200
