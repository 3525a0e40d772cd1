"""`billstream billrun run` as operators run it: the table it prints, dry runs, refusals, a
run killed part-way (a real SIGKILL of the process) then resumed, and two runs at once on
PostgreSQL sharing one gapless invoice series."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.e2e.test_cli import billstream, tables
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test
from tests.factories import apply_catalog_yaml, make_account, make_subscription, make_tenant
from tests.integration.billing.helpers import numbers_catalog

from billstream.billing.models import BillRunItem, Invoice
from billstream.bootstrap import bootstrap
from billstream.core.clock import SystemClock
from billstream.db import migrate
from billstream.settings import Settings

ACCOUNTS = 24
CLOSE = "2026-01-31"


def provider(database_url: str | None = None, *, accounts: int = ACCOUNTS) -> str:
    """A tenant `acme` with the numbers plan and `accounts` accounts of 1-3 subscriptions."""
    settings = Settings(database_url=database_url) if database_url else None
    runtime = bootstrap(settings, create=True)
    try:
        migrate.upgrade(runtime.engine)
        clock = SystemClock()
        with runtime.session_factory.begin() as session:
            tenant = make_tenant(session, clock, slug="acme", name="Acme")
            apply_catalog_yaml(session, clock, tenant, numbers_catalog("arrears"))
            for i in range(accounts):
                account = make_account(session, clock, tenant, name=f"Customer {i:03d}")
                for n in range(1 + i % 3):
                    make_subscription(
                        session,
                        clock,
                        account,
                        "numbers",
                        quantity=Decimal(10 + i + n),
                        start_date=date(2026, 1, 1 + n * 7),
                    )
            return tenant.id
    finally:
        runtime.close()


def invoices(database_url: str | None = None) -> list[tuple[str, str | None, Decimal, str]]:
    """(account, number, total, status) of every invoice, by account."""
    settings = Settings(database_url=database_url) if database_url else None
    runtime = bootstrap(settings)
    try:
        with runtime.session_factory() as session:
            rows = session.execute(
                select(Invoice.account_id, Invoice.number, Invoice.total, Invoice.status)
            ).all()
            return sorted((a, n, t.normalize(), s) for a, n, t, s in rows)
    finally:
        runtime.close()


def test_a_month_end_run_prints_its_table_and_runs_once(data_dir: Path) -> None:
    provider(accounts=3)

    dry = billstream("billrun", "run", "--date", CLOSE, "--tenant", "acme", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert len(tables(dry.stdout)["Dry run: acme"]) == 1 + 3
    assert invoices() == []

    first = billstream("billrun", "run", "--date", CLOSE, "--tenant", "acme")
    assert first.exit_code == 0, first.output
    [header, row] = tables(first.stdout)["Bill runs"]
    assert header == ["tenant", "run", "key", "accounts", "invoiced", "nothing due", "failed"]
    assert row[0] == "acme"
    assert row[2:] == [f"{CLOSE}:cycle", "3", "3", "0", "0"]
    billed = invoices()
    assert sorted(n or "" for _, n, _, _ in billed) == [f"INV-2026-00000{i}" for i in (1, 2, 3)]
    assert {status for _, _, _, status in billed} == {"issued"}

    again = billstream("billrun", "run", "--date", CLOSE, "--tenant", "acme")
    assert again.exit_code == 0, again.output
    assert tables(again.stdout)["Bill runs"][1][1] == row[1]  # the same run, as it was
    assert invoices() == billed


def test_refused_runs_say_why(data_dir: Path) -> None:
    provider(accounts=1)
    future = billstream("billrun", "run", "--date", "2999-01-31", "--tenant", "acme")
    assert future.exit_code == 1
    assert "date" in future.output
    assert "after today" in future.output
    unknown = billstream("billrun", "run", "--date", CLOSE, "--tenant", "nope")
    assert unknown.exit_code == 1
    assert "tenant" in unknown.output
    assert invoices() == []


# --- a real crash --------------------------------------------------------------------------


def _command(*args: str) -> list[str]:
    """The installed `billstream` command, run as its own process."""
    return [str(Path(sys.executable).parent / "billstream"), *args]


def _count(url: str, model: type, **where: str) -> int:
    runtime = bootstrap(Settings(database_url=url))
    try:
        with runtime.session_factory() as session:
            stmt = select(func.count()).select_from(model)
            for name, value in where.items():
                stmt = stmt.where(getattr(model, name) == value)
            return int(session.scalar(stmt) or 0)
    finally:
        runtime.close()


def _kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> bool:
    """SIGKILL `process` as soon as `ready()`; False if it finished first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if ready():
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.005)
    process.kill()
    pytest.fail("the bill run neither finished nor reached the kill point in 2 minutes")


def test_a_run_killed_part_way_then_resumed_gives_the_uninterrupted_result(
    data_dir: Path, tmp_path: Path
) -> None:
    # given the same provider in two databases
    provider()
    database = data_dir / "billstream.sqlite"
    runtime = bootstrap()
    runtime.engine.dispose()  # WAL checkpointed: the file holds everything
    twin = tmp_path / "twin.sqlite"
    shutil.copy(database, twin)
    url, twin_url = f"sqlite:///{database}", f"sqlite:///{twin}"
    args = ("billrun", "run", "--date", CLOSE, "--tenant", "acme", "--chunk", "2")

    # when one runs uninterrupted, and the other is killed at several points and resumed
    env = {**os.environ, "BILLSTREAM_DATABASE_URL": twin_url}
    subprocess.run(_command(*args), env=env, check=True, capture_output=True)
    env = {**os.environ, "BILLSTREAM_DATABASE_URL": url}
    kills = 0
    for point in (0, 5, 12, 19):
        process = subprocess.Popen(
            _command(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if point == 0:  # before the run has even recorded its accounts, or just after
            time.sleep(0.3)
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            continue
        kills += _kill_when(
            process, lambda p=point: _count(url, BillRunItem, status="invoiced") >= p
        )
    finished = subprocess.run(_command(*args), env=env, capture_output=True, text=True)

    # then the resumed run ends with exactly the uninterrupted run's invoices and numbers
    assert finished.returncode == 0, finished.stderr
    assert kills >= 3
    assert invoices(url) == invoices(twin_url)
    assert len(invoices(url)) == ACCOUNTS
    numbers = sorted(n or "" for _, n, _, _ in invoices(url))
    assert numbers == [f"INV-2026-{i:06d}" for i in range(1, ACCOUNTS + 1)]


# --- two runs at once on PostgreSQL -----------------------------------------------------------


@pytest.mark.postgres
def test_two_concurrent_runs_on_postgresql_bill_once_with_a_gapless_series(
    new_database_url: Callable[[str], str], data_dir: Path
) -> None:
    url = new_database_url("postgresql")
    provider(url, accounts=24)
    env = {**os.environ, "BILLSTREAM_DATABASE_URL": url}

    # when two runs of different keys bill the same accounts at the same time, in chunks of
    # one account, the second with two worker processes of its own
    runs = [
        subprocess.Popen(
            _command("billrun", "run", "--date", CLOSE, "--tenant", "acme", "--key", key,
                     "--chunk", "1", "--workers", workers),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for key, workers in (("first", "1"), ("second", "2"))
    ]  # fmt: skip
    outputs = [p.communicate(timeout=300) for p in runs]

    # then each account has one invoice, and the numbers are 1..24 with no gap and no twin
    assert [p.returncode for p in runs] == [0, 0], outputs
    billed = invoices(url)
    assert len(billed) == 24
    assert len({a for a, _, _, _ in billed}) == 24
    assert sorted(n or "" for _, n, _, _ in billed) == [f"INV-2026-{i:06d}" for i in range(1, 25)]
    assert _count(url, BillRunItem, status="failed") == 0


def test_without_a_date_each_tenant_bills_the_day_that_closed_yesterday(data_dir: Path) -> None:
    provider(accounts=2)
    before = datetime.now(UTC).date() - timedelta(days=1)  # the tenant's zone is UTC
    result = billstream("billrun", "run", "--tenant", "acme")
    after = datetime.now(UTC).date() - timedelta(days=1)
    assert result.exit_code == 0, result.output
    [_header, row] = tables(result.stdout)["Bill runs"]
    assert row[2] in {f"{before}:cycle", f"{after}:cycle"}
