"""`billstream.app:create_app`: any ASGI server builds the app; settings are read at startup."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from tests.e2e.conftest import assert_problem

from billstream.app import create_app
from billstream.bootstrap import load_pepper
from billstream.db.engine import make_engine
from billstream.db.migrate import head_revision, upgrade
from billstream.settings import Settings

SERVE = [sys.executable, "-m", "uvicorn", "--factory", "billstream.app:create_app"]
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"


def _migrated_sqlite(path: Path) -> str:
    """A migrated database with its secret key beside it, as `billstream db upgrade` leaves."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    load_pepper(Settings(data_dir=path.parent, database_url=url), create=True)
    return url


def test_building_the_app_reads_no_settings_and_opens_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given settings whose database does not answer and whose data dir does not exist yet
    data_dir = tmp_path / "data"
    monkeypatch.setenv("BILLSTREAM_DATA_DIR", str(data_dir))
    monkeypatch.setenv("BILLSTREAM_DATABASE_URL", UNREACHABLE)
    # when the app is built (as `uvicorn --factory` does before it starts it)
    app = create_app()
    # then nothing was read or written: no runtime, no key file, and its document is there
    assert not hasattr(app.state, "runtime")
    assert not data_dir.exists()
    assert "/v1/accounts" in app.openapi()["paths"]


def test_the_app_bootstraps_from_settings_at_startup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given settings naming a migrated database
    monkeypatch.setenv("BILLSTREAM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BILLSTREAM_DATABASE_URL", _migrated_sqlite(tmp_path / "app.sqlite"))
    # when the app starts
    with TestClient(create_app()) as client:
        ready = client.get("/readyz")
        unauthenticated = client.get("/v1/accounts")
    # then it runs on that database
    assert ready.status_code == 200, ready.text
    assert ready.json()["revision"] == head_revision()
    assert_problem(unauthenticated, status=401, code="unauthenticated")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_uvicorn_serves_the_factory(tmp_path: Path) -> None:
    # given a migrated database named by the environment
    url = _migrated_sqlite(tmp_path / "served.sqlite")
    port = _free_port()
    env = {"BILLSTREAM_DATA_DIR": str(tmp_path), "BILLSTREAM_DATABASE_URL": url, "PATH": ""}
    # when uvicorn runs `billstream.app:create_app` as a factory
    server = subprocess.Popen(
        [*SERVE, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        ready = _wait_until_ready(f"http://127.0.0.1:{port}", server)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)
    # then it answers, ready, on that database
    assert ready.status_code == 200, stderr.decode()
    assert ready.json() == {"status": "ready", "revision": head_revision()}


def _wait_until_ready(base: str, server: subprocess.Popen[bytes]) -> httpx2.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx2.get(f"{base}/readyz", timeout=5)
        except httpx2.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
