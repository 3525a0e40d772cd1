"""Two `billstream` processes doing the same thing at the same moment, on PostgreSQL.

Each test starts two real CLI processes together and holds them at one point with a table
lock of its own (`LOCK TABLE … IN SHARE MODE`, which reads pass and inserts wait on), so
that both have looked before either writes: the race every time, not by luck. It then
releases them and checks exit codes, what each printed, and what the database holds.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test
from tests.e2e.test_cli import tables
from tests.e2e.test_cli_billing import CLOSE, _command, _count, invoices, provider
from tests.factories import assign, make_account, make_number, make_tenant
from tests.unit.mediation.samples import CALLER, NY, asterisk_row, lines

from billstream.billing.models import BillRun, BillRunItem
from billstream.bootstrap import bootstrap
from billstream.core.clock import SystemClock
from billstream.db import migrate
from billstream.db.engine import make_engine
from billstream.mediation.models import UsageFile, UsageRecord, UsageReject
from billstream.settings import Settings

pytestmark = pytest.mark.postgres

ACCOUNTS = 12
RUN_HEADER = ["tenant", "run", "key", "accounts", "invoiced", "nothing due", "failed"]


@contextmanager
def _held(url: str, table: str) -> Iterator[Callable[[], None]]:
    """`table` share-locked by the test until the function yielded is called: every insert
    into it waits (reads do not)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))
            yield conn.rollback
            conn.rollback()
    finally:
        engine.dispose()


def _waiting_on_locks(url: str) -> int:
    """How many sessions of the database wait on a lock now."""
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return _count_waiting(conn)
    finally:
        engine.dispose()


def _count_waiting(conn: Connection) -> int:
    return int(
        conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        or 0
    )


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"not reached in 2 minutes: {what}")


def _start(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "BILLSTREAM_DATABASE_URL": url}
    return subprocess.Popen(
        _command(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    outputs = [p.communicate(timeout=300) for p in processes]
    return [(p.returncode, out, err) for p, (out, err) in zip(processes, outputs, strict=True)]


def _run_rows(results: list[tuple[int, str, str]]) -> list[list[str]]:
    """The row each process printed for its run (after checking both exited 0)."""
    assert [code for code, _, _ in results] == [0, 0], results
    rows = []
    for _, out, _ in results:
        [header, row] = tables(out)["Bill runs"]
        assert header == RUN_HEADER
        rows.append(row)
    return rows


def _check_billed_once(url: str) -> None:
    """One run, completed, every account invoiced once, and its counts as the items say."""
    billed = invoices(url)
    assert len(billed) == ACCOUNTS
    assert len({account for account, _, _, _ in billed}) == ACCOUNTS
    assert _count(url, BillRun) == 1
    assert _count(url, BillRun, status="completed") == 1
    assert _count(url, BillRunItem, status="invoiced") == ACCOUNTS


# --- bill runs ---------------------------------------------------------------------------------


def test_two_runs_of_a_date_started_at_once_are_one_run(
    new_database_url: Callable[[str], str], data_dir: Path
) -> None:
    # given a provider whose accounts close on the date
    url = new_database_url("postgresql")
    provider(url, accounts=ACCOUNTS)
    args = ("billrun", "run", "--date", CLOSE, "--tenant", "acme", "--chunk", "1")

    # when two runs of the date start at once, both looking for the run before either
    # records it (held at the insert of the run)
    with _held(url, "bill_runs") as release:
        processes = [_start(url, *args), _start(url, *args)]
        _wait_for(lambda: _waiting_on_locks(url) == 2, "both runs at the insert of the run")
        release()
    results = _finish(processes)

    # then both exit 0 and print the same run as it ended; each account is invoiced once
    first, second = _run_rows(results)
    assert first == second
    assert first[2:] == [f"{CLOSE}:cycle", str(ACCOUNTS), str(ACCOUNTS), "0", "0"]
    _check_billed_once(url)


def test_a_run_joined_while_its_last_chunk_is_in_flight_prints_the_final_counts(
    new_database_url: Callable[[str], str], data_dir: Path
) -> None:
    # given a provider whose accounts close on the date, billed in one chunk
    url = new_database_url("postgresql")
    provider(url, accounts=ACCOUNTS)
    args = ("billrun", "run", "--date", CLOSE, "--tenant", "acme", "--chunk", "100")

    # when two runs of the date start at once and one bills the only chunk, held before it
    # writes its invoices, while the other finds nothing left to claim
    with _held(url, "invoices") as release:
        processes = [_start(url, *args), _start(url, *args)]
        _wait_for(
            lambda: _waiting_on_locks(url) == 2 or any(p.poll() is not None for p in processes),
            "one run holding the chunk, the other done or waiting for it",
        )
        release()
    results = _finish(processes)

    # then both print the run as it ended: every account invoiced, as the database says
    first, second = _run_rows(results)
    assert first == second
    assert first[2:] == [f"{CLOSE}:cycle", str(ACCOUNTS), str(ACCOUNTS), "0", "0"]
    _check_billed_once(url)


# --- CDR files ---------------------------------------------------------------------------------

UNKNOWN = "3125550000"  # a number nobody holds: its calls are rejected


def _holder_of_ny(url: str) -> None:
    """A tenant `acme` with an account holding the NY number since 2025."""
    runtime = bootstrap(Settings(database_url=url), create=True)  # as `db upgrade` does
    try:
        migrate.upgrade(runtime.engine)
        clock = SystemClock()
        with runtime.session_factory.begin() as session:
            tenant = make_tenant(session, clock, slug="acme", name="Acme")
            account = make_account(session, clock, tenant, name="Holder")
            number = make_number(session, clock, tenant, "+1" + NY)
            assign(session, clock, number, account, datetime(2025, 1, 1, tzinfo=UTC))
    finally:
        runtime.close()


def test_the_same_file_imported_twice_at_once_is_admitted_once(
    new_database_url: Callable[[str], str], data_dir: Path, tmp_path: Path
) -> None:
    # given a file of 6 calls to a held number, 4 to an unknown one and 2 broken lines
    url = new_database_url("postgresql")
    _holder_of_ny(url)
    cdr = tmp_path / "Master.csv"
    cdr.write_bytes(
        lines(
            *(asterisk_row(CALLER, NY, f"2026-01-10 10:0{i}:00", 60, uniqueid=f"u{i}")
              for i in range(6)),
            *(asterisk_row(CALLER, UNKNOWN, f"2026-01-10 11:0{i}:00", 30, uniqueid=f"x{i}")
              for i in range(4)),
            "not,a,cdr",
            "neither,is,this",
        )
    )  # fmt: skip
    args = ("usage", "import", str(cdr), "--format", "asterisk-cdr-csv", "--tenant", "acme")

    # when two imports of it start at once (held where the first records its arrival)
    with _held(url, "usage_files") as release:
        processes = [_start(url, *args), _start(url, *args)]
        _wait_for(lambda: _waiting_on_locks(url) == 2, "both imports held")
        release()
    results = _finish(processes)

    # then one admits the file and the other sees it as already received
    assert [code for code, _, _ in results] == [0, 0], results
    rows = sorted(tables(out)["Usage import"][1] for _, out, _ in results)
    assert rows == [
        ["Master.csv", "asterisk-cdr-csv", "12", "6", "6", "0"],
        ["Master.csv (already received)", "asterisk-cdr-csv", "12", "0", "0", "12"],
    ]
    # and the database holds its records and rejects once
    assert _count(url, UsageFile) == 2
    assert _count(url, UsageRecord) == 6
    assert _count(url, UsageReject) == 6
