"""The command line at its edges, as a newcomer meets it: usage errors, a database or secret
key that is not there, an unsupported database, options the database cannot honour."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tests.e2e.test_cli import billstream
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test

# --- usage errors: one line, exit 2 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["tenant", "list", "--bogus"],
            "error: No such option: --bogus (billstream tenant list --help)",
        ),
        (
            ["tenant", "create", "--name", "Acme"],
            "error: Missing argument 'slug'. (billstream tenant create --help)",
        ),
        (
            ["ratecard", "import", "card.csv", "--tenant", "t", "--name", "n", "--kind", "gold"],
            "error: Invalid value for '--kind': 'gold' is not one of 'retail', 'cost'. "
            "(billstream ratecard import --help)",
        ),
        (
            ["billrun", "run", "--date", "2026-13-01"],
            "error: Invalid value for '--date': '2026-13-01' does not match the formats "
            "'%Y-%m-%d'. (billstream billrun run --help)",
        ),
    ],
    ids=["unknown-option", "missing-argument", "bad-choice", "bad-date"],
)
def test_a_usage_error_is_one_line_on_stderr_and_exit_2(args: list[str], line: str) -> None:
    result = billstream(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", line + "\n")


def test_a_group_without_a_command_shows_its_help() -> None:
    result = billstream("tenant")
    assert result.exit_code == 2
    assert "create" in result.stdout
    assert result.stderr == ""


def test_help_and_a_domain_error_keep_their_exit_codes(data_dir: Path) -> None:
    assert billstream("--help").exit_code == 0
    assert billstream("db", "upgrade").exit_code == 0
    refused = billstream("tenant", "create", "acme", "--name", "Acme", "--currency", "XYZ")
    assert refused.exit_code == 1
    assert refused.stderr == "error: currency: 'XYZ' is not an ISO 4217 currency code\n"


# --- settings -------------------------------------------------------------------------------


def test_an_unsupported_database_url_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BILLSTREAM_DATABASE_URL", "mysql://root:pw@localhost/billing")
    result = billstream("tenant", "list")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: BILLSTREAM_DATABASE_URL: 'mysql' is not supported: billstream runs on SQLite "
        "(sqlite:///<file>) or PostgreSQL with psycopg (postgresql+psycopg://<user>@<host>/<db>)\n"
    )


# --- a folder without a database -------------------------------------------------------------


def test_a_command_in_a_folder_without_a_database_says_where_it_looked(data_dir: Path) -> None:
    # given a folder with no database (the newcomer's first command, in the wrong folder)
    # when
    result = billstream("tenant", "list")

    # then one line saying where it looked and what to run, and nothing was created
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: database: no database at {data_dir.resolve() / 'billstream.sqlite'}: run "
        "`billstream db upgrade` (or `billstream demo`) to create it, or set "
        "BILLSTREAM_DATA_DIR or BILLSTREAM_DATABASE_URL to yours\n"
    )
    assert not data_dir.exists()


def test_only_db_upgrade_creates_the_database_and_the_secret_key(data_dir: Path) -> None:
    for command in (["db", "current"], ["apikey", "create", "--tenant", "acme"], ["serve"]):
        assert billstream(*command).exit_code == 1
    assert not data_dir.exists()

    assert billstream("db", "upgrade").exit_code == 0

    assert sorted(p.name for p in data_dir.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "billstream.sqlite",
        "secret.key",
    ]


def test_a_missing_secret_key_is_not_made_anew(data_dir: Path) -> None:
    # given a database whose secret key file is gone (API keys are hashed with it)
    assert billstream("db", "upgrade").exit_code == 0
    (data_dir / "secret.key").unlink()

    # when
    result = billstream("tenant", "list")

    # then refused, naming the file and the variable; no new key was made
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: secret key: no file {data_dir.resolve() / 'secret.key'} and "
        "BILLSTREAM_SECRET_KEY is unset: run `billstream db upgrade` to create the file, or "
        "set BILLSTREAM_SECRET_KEY\n"
    )
    assert not (data_dir / "secret.key").exists()


# --- options the database cannot honour ------------------------------------------------------


def test_several_bill_run_workers_on_sqlite_are_refused_as_a_usage_error(data_dir: Path) -> None:
    assert billstream("db", "upgrade").exit_code == 0
    result = billstream("billrun", "run", "--date", "2026-01-31", "--workers", "2")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: Invalid value for '--workers': 2 workers need PostgreSQL: SQLite has one writer "
        "at a time, so a bill run on it has one worker (billstream billrun run --help)\n"
    )


# --- serve ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_with_workers_answers_from_several_processes(data_dir: Path) -> None:
    # given a migrated database
    assert billstream("db", "upgrade").exit_code == 0
    port = _free_port()
    command = [str(Path(sys.executable).parent / "billstream"), "serve", "--port", str(port)]

    # when the API is served by two worker processes
    server = subprocess.Popen(
        [*command, "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        status = _first_answer(f"http://127.0.0.1:{port}/v1/tenants", deadline=90)
    finally:
        server.send_signal(signal.SIGINT)
        _, logs = server.communicate(timeout=60)

    # then it answered (401: no key), from two server processes
    assert status == 401, logs
    assert len(set(re.findall(r"Started server process \[(\d+)\]", logs))) == 2, logs


def _first_answer(url: str, *, deadline: float) -> int:
    """The status of the first answer at `url` within `deadline` seconds."""
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as answered:
            return answered.code
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)


# --- help stays light ------------------------------------------------------------------------

HEAVY = ("weasyprint", "polars", "sqlalchemy", "alembic", "psycopg", "pydantic", "jinja2", "yaml")
MODULES_AT_MOST = 400  # Typer, Click and Rich are about 230 of them; all of billstream was 1,500


def test_help_imports_no_heavy_library() -> None:
    # when `billstream --help` runs in a fresh interpreter
    program = (
        "import json, sys\n"
        "from billstream.cli import app\n"
        "try:\n"
        "    app(['--help'], prog_name='billstream')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120
    )

    # then it printed the help having imported none of them, and few modules at all
    modules = json.loads(done.stderr)
    assert "Usage: billstream" in done.stdout
    assert [m for m in modules if m.split(".")[0] in HEAVY] == []
    assert len(modules) <= MODULES_AT_MOST
