"""Out-of-bounds input at the command line (issue 17): one clear line and a non-zero exit,
or, in a CDR file, one reject while the rest of the file is imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.test_cli import billstream, tables
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test
from tests.e2e.test_cli import migrated as migrated
from tests.e2e.test_cli_usage import IMPORT_HEADER, acme
from tests.unit.mediation.samples import CALLER, GENERIC_HEADER, NY, generic_row, lines

__all__ = ["acme"]


@pytest.mark.parametrize("fmt", ["{seq.__class__}", "{seq:>99999999}"])
def test_tenant_create_refuses_an_invoice_format_outside_the_grammar(
    migrated: None, fmt: str
) -> None:
    # when a tenant is created with the format
    result = billstream(
        "tenant", "create", "acme", "--name", "Acme", "--currency", "USD", "--invoice-format", fmt
    )

    # then one line names the field and the reason, and no tenant exists
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invoice_format: the invoice format has ")
    assert result.stderr.count("\n") == 1
    assert "acme" not in billstream("tenant", "list").stdout


def test_a_23_digit_billed_seconds_is_one_reject_and_the_file_is_imported(
    acme: None, tmp_path: Path
) -> None:
    # given a generic carrier file: a call, 23 digits of seconds, another call
    path = tmp_path / "carrier.csv"
    path.write_bytes(
        lines(
            GENERIC_HEADER,
            generic_row("c1", "2026-01-10T10:00:00Z", CALLER, NY, "61", "voice"),
            generic_row("c2", "2026-01-10T11:00:00Z", CALLER, NY, "9" * 23, "voice"),
            generic_row("c3", "2026-01-10T12:00:00Z", CALLER, NY, "30", "voice"),
        )
    )

    # when it is imported
    result = billstream(
        "usage", "import", str(path), "--format", "generic-carrier-csv", "--tenant", "acme"
    )

    # then two calls are accepted and the long one is a reject with its reason
    assert result.exit_code == 0, result.output
    assert tables(result.stdout)["Usage import"] == [
        IMPORT_HEADER,
        ["carrier.csv", "generic-carrier-csv", "3", "2", "1", "0"],
    ]
    rows = tables(billstream("usage", "rejects", "--tenant", "acme").stdout)["Open rejects"]
    assert [(r[1], r[2]) for r in rows[1:]] == [("3", "bad_duration")]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("usage", "rate", "--from", "0001-01-01", "--to", "2026-01-01"),
            "error: from: 0001-01-01 is outside the dates billstream accepts "
            "(1900-01-01 to 9899-12-31)\n",
        ),
        (
            ("ratecard", "tiers", "--usage-type", "voice", "--tier", "0:0.06",
             "--tier", f"{10**15 + 1}:0.03"),
            "error: tiers: tiers start at quantities up to 1000000000000000 at rates up to "
            "1000000\n",
        ),
        (
            ("ratecard", "margin-rule", "--percent", "10", "--min-margin", "1000000.000001"),
            "error: min_margin: a minimum margin is 0 to 1000000\n",
        ),
        (
            ("ratecard", "rules", "--first", str(2**64), "--next", "1"),
            f"error: first_s: rounding takes 0 to 1000000 seconds, not {2**64}\n",
        ),
        (
            ("ratecard", "rules", "--first", "60", "--next", "1", "--effective-from",
             "1899-12-31"),
            "error: effective_from: 1899-12-31 is outside the dates billstream accepts "
            "(1900-01-01 to 9899-12-31)\n",
        ),
    ],
)  # fmt: skip
def test_rating_commands_refuse_values_out_of_bounds_in_one_line(
    acme: None, args: tuple[str, ...], line: str
) -> None:
    result = billstream(*args, "--tenant", "acme")
    assert result.exit_code == 1, result.output
    assert result.stderr == line
