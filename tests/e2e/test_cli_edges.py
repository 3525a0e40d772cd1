"""The command line at its edges, as a newcomer meets it: usage errors, a database or secret
key that is not there, an unsupported database, options the database cannot honour."""

from __future__ import annotations

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
