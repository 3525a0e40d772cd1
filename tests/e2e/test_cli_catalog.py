"""`billstream catalog apply FILE --tenant T`, end to end, against a fresh SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.e2e.test_cli import tables
from typer.testing import CliRunner, Result

from billstream.bootstrap import bootstrap
from billstream.catalog.models import Price
from billstream.cli import app

runner = CliRunner()

SPEC_FILE = """\
effective_from: 2026-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
plans:
  - code: numbers-monthly
    name: Numbers, monthly
    currencies: [USD]
    charges:
      - code: numbers
        product: numbers
        timing: advance
        cadence: monthly
        prices:
          - {currency: USD, model: {type: per_unit, unit_price: 5.00}}
"""
HEADER = ["kind", "created", "changed", "unchanged"]


@pytest.fixture(autouse=True)
def northwind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh data directory, migrated, with tenant northwind billing in USD."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BILLSTREAM_DATA_DIR", str(tmp_path / "var"))
    for name in ("BILLSTREAM_DATABASE_URL", "BILLSTREAM_SECRET_KEY", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    assert billstream("db", "upgrade").exit_code == 0
    created = billstream(
        "tenant", "create", "northwind", "--name", "Northwind", "--currency", "USD"
    )
    assert created.exit_code == 0, created.output


@pytest.fixture
def cli_session() -> Iterator[Session]:
    runtime = bootstrap()
    with runtime.session_factory() as session:
        yield session
    runtime.close()


def billstream(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_apply_shows_what_was_created_then_that_nothing_changed(
    tmp_path: Path, cli_session: Session
) -> None:
    # given the SPEC "$5 per number per month" file
    path = write(tmp_path, SPEC_FILE)
    # when applied twice
    first = billstream("catalog", "apply", str(path), "--tenant", "northwind")
    second = billstream("catalog", "apply", str(path), "--tenant", "northwind")
    # then the first run created each item and the second changed nothing
    assert first.exit_code == 0, first.output
    assert tables(first.stdout)["Catalogue applied"] == [
        HEADER,
        ["product", "1", "0", "0"],
        ["plan", "1", "0", "0"],
        ["charge", "1", "0", "0"],
        ["price", "1", "0", "0"],
        ["total", "4", "0", "0"],
    ]
    assert second.exit_code == 0, second.output
    assert tables(second.stdout)["Catalogue applied"][-1] == ["total", "0", "0", "4"]
    assert cli_session.scalar(select(func.count()).select_from(Price)) == 1


def test_a_changed_price_is_reported_as_changed(tmp_path: Path, cli_session: Session) -> None:
    billstream("catalog", "apply", str(write(tmp_path, SPEC_FILE)), "--tenant", "northwind")
    april = SPEC_FILE.replace("2026-01-01", "2026-04-01").replace("5.00", "5.50")
    result = billstream("catalog", "apply", str(write(tmp_path, april)), "--tenant", "northwind")
    assert tables(result.stdout)["Catalogue applied"][-2:] == [
        ["price", "0", "1", "0"],
        ["total", "0", "1", "3"],
    ]
    assert cli_session.scalar(select(func.count()).select_from(Price)) == 2


def test_a_bad_file_prints_the_path_and_the_reason_and_writes_nothing(
    tmp_path: Path, cli_session: Session
) -> None:
    path = write(tmp_path, SPEC_FILE.replace("product: numbers", "product: voice"))
    result = billstream("catalog", "apply", str(path), "--tenant", "northwind")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: plans[0].charges[0].product: unknown product 'voice': declare it under "
        "products or in a parent's catalogue\n"
    )
    assert cli_session.scalar(select(func.count()).select_from(Price)) == 0


def test_an_unknown_tenant_or_a_missing_file_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, SPEC_FILE)
    nobody = billstream("catalog", "apply", str(path), "--tenant", "nobody")
    missing = billstream("catalog", "apply", str(tmp_path / "nope.yaml"), "--tenant", "northwind")
    assert (nobody.exit_code, nobody.stderr) == (
        1,
        "error: tenant: no tenant with id or slug 'nobody'\n",
    )
    assert (missing.exit_code, missing.stderr) == (
        1,
        f"error: {tmp_path / 'nope.yaml'}: No such file or directory\n",
    )
