"""`billstream usage`: import CDR files, list rejects, reprocess them, at the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.e2e.test_cli import billstream, tables
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test
from tests.factories import assign, make_account, make_number
from tests.unit.mediation.samples import CALLER, NY, asterisk_row, lines

from billstream.bootstrap import bootstrap
from billstream.core.clock import FakeClock
from billstream.tenants.service import find_tenant

IMPORT_HEADER = ["file", "format", "in", "accepted", "rejected", "duplicates"]
CHICAGO = "3125550000"


def _hold(number: str) -> None:
    """Give `number` to a new account of the tenant from January (as an operator would)."""
    runtime = bootstrap(clock=FakeClock(datetime(2026, 1, 1, tzinfo=UTC)))
    try:
        with runtime.session_factory() as session:
            tenant = find_tenant(session, "acme")
            account = make_account(session, runtime.clock, tenant, name=f"Holder of {number}")
            held = make_number(session, runtime.clock, tenant, "+1" + number)
            assign(session, runtime.clock, held, account, datetime(2026, 1, 1, tzinfo=UTC))
            session.commit()
    finally:
        runtime.close()


@pytest.fixture
def acme(data_dir: Path) -> None:
    assert billstream("db", "upgrade").exit_code == 0
    created = billstream("tenant", "create", "acme", "--name", "Acme", "--currency", "USD")
    assert created.exit_code == 0, created.output
    _hold(NY)


@pytest.fixture
def cdrs(tmp_path: Path) -> list[Path]:
    first, second = tmp_path / "Master-1.csv", tmp_path / "Master-2.csv"
    first.write_bytes(
        lines(
            asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid="u1"),
            asterisk_row(CALLER, CHICAGO, "2026-01-10 11:00:00", 30, uniqueid="u2"),
            "not,a,cdr",
        )
    )
    second.write_bytes(
        lines(
            asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid="u1"),
            asterisk_row(CALLER, NY, "2026-01-11 10:00:00", 5, uniqueid="u3"),
        )
    )
    return [first, second]


def test_import_prints_the_counts_of_each_file(acme: None, cdrs: list[Path]) -> None:
    # when two overlapping files are imported, then the first again
    result = billstream(
        "usage", "import", *map(str, cdrs), str(cdrs[0]), "--format", "asterisk-cdr-csv",
        "--tenant", "acme",
    )  # fmt: skip

    # then each file's in = accepted + rejected + duplicates is printed
    assert result.exit_code == 0, result.output
    assert tables(result.stdout)["Usage import"] == [
        IMPORT_HEADER,
        ["Master-1.csv", "asterisk-cdr-csv", "3", "1", "2", "0"],
        ["Master-2.csv", "asterisk-cdr-csv", "2", "1", "0", "1"],
        ["Master-1.csv (already received)", "asterisk-cdr-csv", "3", "0", "0", "3"],
    ]


def test_rejects_are_listed_and_reprocessed_after_a_fix(acme: None, cdrs: list[Path]) -> None:
    # given a file with a call to a number nobody held and a malformed line
    imported = billstream(
        "usage", "import", str(cdrs[0]), "--format", "asterisk-cdr-csv", "--tenant", "acme"
    )
    assert imported.exit_code == 0, imported.output

    # when the rejects are listed (all, then one reason)
    listed = billstream("usage", "rejects", "--tenant", "acme")
    unknown = billstream("usage", "rejects", "--tenant", "acme", "--reason", "unknown_number")

    # then each shows its file, line, reason and raw line
    rows = tables(listed.stdout)["Open rejects"]
    assert rows[0] == ["file", "line", "reason", "detail", "raw"]
    assert sorted((r[0], r[1], r[2]) for r in rows[1:]) == [
        ("Master-1.csv", "2", "unknown_number"),
        ("Master-1.csv", "3", "wrong_column_count"),
    ]
    assert [r[2] for r in tables(unknown.stdout)["Open rejects"][1:]] == ["unknown_number"]

    # when the number is assigned and the rejects reprocessed
    _hold(CHICAGO)
    result = billstream("usage", "reprocess", "--tenant", "acme")

    # then the call is accepted and the malformed line stays open
    assert result.exit_code == 0, result.output
    assert tables(result.stdout)["Reprocess"] == [
        ["reprocessed", "accepted", "duplicates", "still rejected"],
        ["2", "1", "0", "1"],
    ]
    left = tables(billstream("usage", "rejects", "--tenant", "acme").stdout)["Open rejects"]
    assert [r[2] for r in left[1:]] == ["wrong_column_count"]


def test_an_unknown_format_or_reason_is_one_line_naming_it(acme: None, cdrs: list[Path]) -> None:
    bad_format = billstream("usage", "import", str(cdrs[0]), "--format", "nope", "--tenant", "acme")
    bad_reason = billstream("usage", "rejects", "--tenant", "acme", "--reason", "nope")
    missing = billstream(
        "usage", "import", "missing.csv", "--format", "asterisk-cdr-csv", "--tenant", "acme"
    )
    assert bad_format.exit_code == 1
    assert bad_format.stderr.startswith("error: format: no CDR format 'nope'; known: ")
    assert bad_reason.exit_code == 1
    assert bad_reason.stderr.startswith("error: reason: 'nope' is not a reject reason")
    assert missing.exit_code == 1
    assert "missing.csv" in missing.stderr


def test_a_tenant_format_in_the_formats_folder_is_used(
    acme: None, data_dir: Path, tmp_path: Path
) -> None:
    # given a carrier format dropped into the data directory's formats folder
    folder = data_dir / "formats"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "carrier-x.yaml").write_text(
        "name: carrier-x\nheader: true\ndelimiter: ';'\ncolumns: [id, at, a, b, secs]\n"
        "fields: {started_at: [at], duration: secs, calling: a, called: b}\n"
        "record_key: {column: id}\ncarrier: carrier-x\n",
        encoding="utf-8",
    )
    cdr = tmp_path / "x.csv"
    cdr.write_text(f"id;at;a;b;secs\nx1;2026-01-10 10:00:00;{CALLER};{NY};12\n", encoding="utf-8")

    # when a file in it is imported
    result = billstream("usage", "import", str(cdr), "--format", "carrier-x", "--tenant", "acme")

    # then it is read with that format
    assert result.exit_code == 0, result.output
    assert tables(result.stdout)["Usage import"][1] == ["x.csv", "carrier-x", "1", "1", "0", "0"]
