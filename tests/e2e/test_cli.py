"""The `billstream` command, end to end, against a fresh SQLite file per test.

Each test runs the real commands through Typer's runner with BILLSTREAM_* pointing at a
temporary data directory, and reads what an operator reads: the tables and the exit code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from billstream.access.service import authenticate
from billstream.accounts.models import Account
from billstream.accounts.service import paying_account_of
from billstream.bootstrap import Runtime, bootstrap
from billstream.cli import app
from billstream.db.migrate import head_revision

runner = CliRunner()

TENANT_HEADER = ["slug", "name", "parent", "currency", "time zone", "locale", "id"]
IMPORT_HEADER = ["rows", "created", "updated", "unchanged", "rejected"]
REJECTS_HEADER = ["line", "external_id", "field", "reason"]

ACCOUNTS_CSV = """\
external_id,name,type,parent_external_id,billing_mode,email,billing_address_city,billing_address_country
C1,Acme Corp,customer,,,ap@acme.example,Chicago,US
C2,Globex,reseller,,,,Springfield,us
C1-SALES,Sales,department,C1,billed_to_parent,,,
C3,Initech,customer,,,,Austin,XX
C4,Hooli Support,department,NOPE,billed_to_parent,,,
"""

HEAD = head_revision()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory (database file, secret key) per test; no colours."""
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    monkeypatch.setenv("BILLSTREAM_DATA_DIR", str(tmp_path / "var"))
    for name in ("BILLSTREAM_DATABASE_URL", "BILLSTREAM_SECRET_KEY", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "var"


def billstream(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def tables(output: str) -> dict[str, list[list[str]]]:
    """Each Rich table of `output` by its title ("" for none): header row, then body rows."""
    lines = output.splitlines()
    found: dict[str, list[list[str]]] = {}
    for i, line in enumerate(lines):
        if not line.startswith("┏"):
            continue
        title = lines[i - 1].strip() if i else ""
        rows: list[list[str]] = []
        for row in lines[i + 1 :]:
            if row.startswith("└"):
                break
            if row[:1] in ("┃", "│"):
                rows.append([cell.strip() for cell in row[1:-1].split(row[0])])
        found[title] = rows
    return found


@pytest.fixture
def migrated() -> None:
    assert billstream("db", "upgrade").exit_code == 0


@pytest.fixture
def northwind(migrated: None) -> None:
    result = billstream(
        "tenant", "create", "northwind", "--name", "Northwind", "--currency", "USD",
        "--timezone", "America/New_York", "--locale", "en_US",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.fixture
def cli_runtime() -> Iterator[Runtime]:
    """The runtime the commands build (same settings), to check what they stored."""
    runtime = bootstrap()
    yield runtime
    runtime.close()


@pytest.fixture
def cli_session(cli_runtime: Runtime) -> Iterator[Session]:
    with cli_runtime.session_factory() as session:
        yield session


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    return path


# --- db ----------------------------------------------------------------------------------


def test_db_upgrade_then_current_reports_the_head_revision(data_dir: Path) -> None:
    # given an empty data directory
    database = f"sqlite:///{(data_dir / 'billstream.sqlite').resolve()}"

    # when
    before = billstream("db", "current")
    upgraded = billstream("db", "upgrade")
    current = billstream("db", "current")

    # then `db current` found no database (and made none), `db upgrade` made it
    assert (before.exit_code, before.stdout) == (1, "")
    assert before.stderr.startswith("error: database: no database at ")
    assert upgraded.exit_code == 0
    assert upgraded.stdout == f"database {database} at revision {HEAD} (head)\n"
    assert current.stdout == f"database {database} at revision {HEAD} (head)\n"


def test_db_downgrade_to_base_empties_the_database(migrated: None, data_dir: Path) -> None:
    # when
    result = billstream("db", "downgrade", "base")

    # then
    assert result.exit_code == 0
    assert result.stdout.endswith(f"at revision none (head is {HEAD})\n")


@pytest.fixture
def unmigrated(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty database file (and a secret key), which no `db upgrade` has migrated."""
    data_dir.mkdir()
    (data_dir / "billstream.sqlite").touch()  # an empty file is an empty SQLite database
    monkeypatch.setenv("BILLSTREAM_SECRET_KEY", "k" * 64)


def test_a_command_on_an_unmigrated_database_says_what_to_run(unmigrated: None) -> None:
    # given a database nobody migrated
    # when
    result = billstream("tenant", "list")

    # then
    assert result.exit_code == 1
    assert result.stderr == (
        "error: database: no such table: tenants (run `billstream db upgrade` first)\n"
    )


def test_serve_refuses_a_database_that_is_not_migrated(unmigrated: None) -> None:
    # given a database nobody migrated
    # when
    result = billstream("serve", "--port", "8999")

    # then the server does not start
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: database: at revision none, not {HEAD}; run `billstream db upgrade` first\n"
    )


# --- tenants -----------------------------------------------------------------------------


def test_tenant_create_and_list_show_settings_resolved_down_the_tree(northwind: None) -> None:
    # given a parent (USD, New York, en_US) and when two brands are created below it
    uk = billstream(
        "tenant", "create", "northwind-uk", "--name", "Northwind UK", "--parent", "northwind",
        "--currency", "GBP", "--timezone", "Europe/London", "--locale", "en_GB",
        "--invoice-prefix", "NWUK-", "--brand-primary-color", "#4A235A",
    )  # fmt: skip
    us = billstream("tenant", "create", "northwind-us", "--name", "US", "--parent", "northwind")
    listed = billstream("tenant", "list")

    # then the UK brand has its own settings and the US brand inherits the parent's
    assert uk.exit_code == 0
    assert uk.stdout.startswith("created tenant northwind-uk (ten_")
    assert uk.stdout.endswith("): GBP, Europe/London, en_GB\n")
    assert us.stdout.endswith("): USD, America/New_York, en_US\n")
    rows = tables(listed.stdout)[""]
    assert rows[0] == TENANT_HEADER
    assert [row[:6] for row in rows[1:]] == [
        ["northwind", "Northwind", "", "USD", "America/New_York", "en_US"],
        ["northwind-uk", "Northwind UK", "northwind", "GBP", "Europe/London", "en_GB"],
        ["northwind-us", "US", "northwind", "USD", "America/New_York", "en_US"],
    ]
    assert all(row[6].startswith("ten_") for row in rows[1:])


def test_a_bad_currency_is_one_red_line_naming_the_field_and_nothing_is_stored(
    migrated: None,
) -> None:
    # when
    result = billstream("tenant", "create", "acme", "--name", "Acme", "--currency", "XYZ")

    # then
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: currency: 'XYZ' is not an ISO 4217 currency code\n"
    assert tables(billstream("tenant", "list").stdout)[""] == [TENANT_HEADER]


def test_an_unknown_parent_is_blamed_on_the_parent_option(northwind: None) -> None:
    # when
    result = billstream("tenant", "create", "uk", "--name", "UK", "--parent", "nowhere")

    # then
    assert result.exit_code == 1
    assert result.stderr == "error: parent: no tenant with id or slug 'nowhere'\n"


# --- API keys ----------------------------------------------------------------------------


def test_apikey_create_prints_a_token_that_authenticates_for_the_subtree(
    northwind: None, cli_runtime: Runtime, cli_session: Session
) -> None:
    # given a brand below northwind
    billstream("tenant", "create", "northwind-uk", "--name", "UK", "--parent", "northwind")

    # when
    result = billstream("apikey", "create", "--tenant", "northwind", "--descendants")

    # then the token alone is on stdout, and it authenticates with the descendants in scope
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert result.stdout == f"{token}\n"
    assert token.startswith("bsk_key_")
    assert "shown once and only its hash is stored" in result.stderr
    key, scope = authenticate(cli_session, pepper=cli_runtime.pepper, token=token)
    assert key.name == "cli"
    assert key.include_descendants is True
    assert len(scope.tenant_ids) == 2


def test_apikey_for_an_unknown_tenant_fails_cleanly(migrated: None) -> None:
    # when
    result = billstream("apikey", "create", "--tenant", "nobody")

    # then
    assert result.exit_code == 1
    assert result.stderr == "error: tenant: no tenant with id or slug 'nobody'\n"


# --- account import ----------------------------------------------------------------------


def test_account_import_creates_good_rows_and_reports_the_rejected_ones(
    northwind: None, tmp_path: Path, cli_session: Session
) -> None:
    # given a file with 3 good rows (one a child billed to a parent defined above it),
    # a row with a bad country and a row whose parent is unknown
    path = write_csv(tmp_path, ACCOUNTS_CSV)

    # when
    result = billstream("account", "import", str(path), "--tenant", "northwind")

    # then the file is processed (exit 0) and the rejects are listed with line and field
    assert result.exit_code == 0, result.output
    shown = tables(result.stdout)
    assert shown["Account import"] == [IMPORT_HEADER, ["5", "3", "0", "0", "2"]]
    assert shown["Rejected rows"] == [
        REJECTS_HEADER,
        ["5", "C3", "billing_address.country", "'XX' is not an ISO 3166 country code"],
        ["6", "C4", "parent_external_id", "no account with external_id 'NOPE' (above or stored)"],
    ]
    stored = {a.external_id: a for a in cli_session.scalars(select(Account))}
    assert sorted(stored) == ["C1", "C1-SALES", "C2"]
    assert stored["C1-SALES"].parent_id == stored["C1"].id
    assert paying_account_of(cli_session, stored["C1-SALES"]) == stored["C1"].id
    assert stored["C2"].billing_address == {"city": "Springfield", "country": "US"}


def test_reimporting_the_same_file_creates_nothing_and_changes_nothing(
    northwind: None, tmp_path: Path
) -> None:
    # given the file was imported once
    path = write_csv(tmp_path, ACCOUNTS_CSV)
    billstream("account", "import", str(path), "--tenant", "northwind")

    # when
    result = billstream("account", "import", str(path), "--tenant", "northwind")

    # then
    assert result.exit_code == 0
    assert tables(result.stdout)["Account import"] == [IMPORT_HEADER, ["5", "0", "0", "3", "2"]]


def test_a_changed_row_updates_the_stored_account(northwind: None, tmp_path: Path) -> None:
    # given C1 was imported
    billstream("account", "import", str(write_csv(tmp_path, ACCOUNTS_CSV)), "--tenant", "northwind")
    changed = "external_id,name,email\nC1,Acme Corporation,ap@acme.example\nC2,Globex,\n"

    # when
    result = billstream(
        "account", "import", str(write_csv(tmp_path, changed)), "--tenant", "northwind"
    )

    # then
    assert tables(result.stdout)["Account import"] == [IMPORT_HEADER, ["2", "0", "1", "1", "0"]]


def test_an_import_where_every_row_is_rejected_exits_1(northwind: None, tmp_path: Path) -> None:
    # given
    path = write_csv(tmp_path, "external_id,name\n,No id\n")

    # when
    result = billstream("account", "import", str(path), "--tenant", "northwind")

    # then
    assert result.exit_code == 1
    assert tables(result.stdout)["Account import"] == [IMPORT_HEADER, ["1", "0", "0", "0", "1"]]
    assert result.stderr == f"error: {path}: all 1 rows were rejected; nothing was imported\n"


def test_a_missing_file_is_one_line_and_exit_1(northwind: None, tmp_path: Path) -> None:
    # when
    result = billstream("account", "import", str(tmp_path / "nope.csv"), "--tenant", "northwind")

    # then
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'nope.csv'}: No such file or directory\n"


def test_a_file_that_is_not_utf8_is_refused(northwind: None, tmp_path: Path) -> None:
    # given
    path = tmp_path / "latin1.csv"
    path.write_bytes("external_id,name\nC9,Société Générale\n".encode("latin-1"))

    # when
    result = billstream("account", "import", str(path), "--tenant", "northwind")

    # then
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: not a readable UTF-8 CSV file: ")
    assert result.stderr.count("\n") == 1


# --- demo --------------------------------------------------------------------------------

ORG_ABC = [
    ["account", "type", "billing mode", "paid by"],
    ["Org ABC", "customer", "self paying", "Org ABC"],
    ["└ HR", "department", "billed to parent", "Org ABC"],
    ["└ Sales", "department", "billed to parent", "Org ABC"],
    ["└ Support", "department", "self paying", "Support"],
    ["└ Tier1", "department", "billed to parent", "Support"],
    ["└ Tier2", "department", "billed to parent", "Support"],
]


def account_total(output: str) -> int:
    return sum(int(row[-1]) for row in tables(output)["Accounts per brand and type"][1:])


def test_demo_loads_the_provider_and_shows_who_pays_in_org_abc(migrated: None) -> None:
    # when
    result = billstream("demo", "--accounts", "20", "--cdrs", "2000", "--pdfs", "0", "--seed", "7")

    # then
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Loaded the demo provider Northwind Communications Group")
    shown = tables(result.stdout)
    assert shown["Org ABC: who pays"] == ORG_ABC
    assert "Org ABC's invoice carries: Org ABC, HR, Sales\n" in result.stdout
    assert "Support's invoice carries: Support, Tier1, Tier2\n" in result.stdout
    assert account_total(result.stdout) == 20
    assert [row[:3] for row in shown["Tenants, with the settings in force for each"][1:]] == [
        ["Northwind Communications Group", "northwind", "USD"],
        ["└ Northwind Singapore", "northwind-sg", "SGD"],
        ["└ Northwind UK", "northwind-uk", "GBP"],
        ["└ Northwind US", "northwind-us", "USD"],
    ]
    # and Org ABC's numbers are invoiced as SPEC C4's table
    upcoming = shown["Org ABC: its numbers to 2026-02-28 as invoiced (SPEC C4)"]
    assert [(row[1], row[2], row[3], row[6]) for row in upcoming[1:]] == [
        ("Jan 01 - Jan 31", "50", "31/31", "250.00 USD"),
        ("Jan 16 - Jan 31", "10", "16/31", "25.81 USD"),
        ("Feb 01 - Feb 24", "60", "24/28", "257.14 USD"),
        ("Feb 25 - Feb 28", "55", "4/28", "39.29 USD"),
        ("total", "", "", "275.81 USD"),
        ("total", "", "", "296.43 USD"),
    ]
    lookups = shown["Set-based number look-up: who held each number at each instant"]
    assert lookups[1][0] == "100,000"
    assert "billstream apikey create --tenant northwind --descendants" in result.stdout


def test_running_the_demo_twice_shows_the_same_data_again(migrated: None) -> None:
    # given the demo ran once
    first = billstream("demo", "--accounts", "12", "--cdrs", "1000", "--pdfs", "0")

    # when
    second = billstream("demo", "--accounts", "12", "--cdrs", "1000", "--pdfs", "0")

    # then
    assert second.exit_code == 0
    assert second.stdout.startswith("demo data already loaded\n")
    assert tables(second.stdout)["Org ABC: who pays"] == ORG_ABC
    assert account_total(second.stdout) == account_total(first.stdout) == 12
    assert (
        tables(second.stdout)["Number inventory on 2026-01-01"]
        == (tables(first.stdout)["Number inventory on 2026-01-01"])
    )
