"""`billstream subscription`: orders and the upcoming-charges preview at the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.e2e.test_api_subscriptions import NUMBERS_CATALOG
from tests.e2e.test_cli import billstream, tables
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test

from billstream.bootstrap import bootstrap
from billstream.subscriptions.models import Subscription, SubscriptionChange

ACCOUNTS_CSV = "external_id,name\nCASE-1,Case Study Co\nCASE-2,Second Co\n"
PREVIEW_HEADER = [
    "period",
    "span",
    "charge",
    "kind",
    "quantity",
    "fraction",
    "unit price",
    "layer",
    "amount",
]


@pytest.fixture
def shop(tmp_path: Path, data_dir: Path) -> None:
    """A migrated database, a tenant with the numbers plan and two accounts."""
    assert billstream("db", "upgrade").exit_code == 0
    created = billstream("tenant", "create", "acme", "--name", "Acme", "--currency", "USD")
    assert created.exit_code == 0, created.output
    catalog, accounts = tmp_path / "catalog.yaml", tmp_path / "accounts.csv"
    catalog.write_text(NUMBERS_CATALOG, encoding="utf-8")
    accounts.write_text(ACCOUNTS_CSV, encoding="utf-8")
    applied = billstream("catalog", "apply", str(catalog), "--tenant", "acme")
    assert applied.exit_code == 0, applied.output
    imported = billstream("account", "import", str(accounts), "--tenant", "acme")
    assert imported.exit_code == 0, imported.output


def rows(table: str) -> int:
    runtime = bootstrap()
    try:
        with runtime.session_factory() as session:
            model = {"subscriptions": Subscription, "changes": SubscriptionChange}[table]
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        runtime.close()


def test_an_order_and_its_preview_at_the_command_line(shop: None) -> None:
    # given an order of 50 numbers from Jan 1 for the account with external id CASE-1
    created = billstream(
        "subscription", "create", "--account", "CASE-1", "--plan", "numbers",
        "--quantity", "50", "--start", "2026-01-01", "--external-id", "ORD-1",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "plan numbers x 50 from 2026-01-01" in created.stdout

    # when its charges to the end of January are previewed
    before = (rows("subscriptions"), rows("changes"))
    result = billstream("subscription", "preview", "CASE-1", "--until", "2026-01-31")

    # then one line shows the month at $5 x 50, and the totals say 250.00 USD
    assert result.exit_code == 0, result.output
    shown = tables(result.stdout)
    preview = shown["Upcoming charges of Case Study Co to 2026-01-31"]
    assert preview == [
        PREVIEW_HEADER,
        [
            "2026-01-01 - 2026-01-31",
            "2026-01-01 - 2026-01-31",
            "numbers",
            "recurring",
            "50",
            "31/31",
            "5.00",
            "plan",
            "250.00 USD",
        ],
    ]
    assert shown["Totals"] == [
        ["period", "currency", "amount"],
        ["2026-01-01 - 2026-01-31", "USD", "250.00"],
        ["all", "USD", "250.00"],
    ]
    # and nothing was written
    assert (rows("subscriptions"), rows("changes")) == before == (1, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", "NOPE", "--plan", "numbers"], "error: account: account 'NOPE' is unknown"),
        (["--account", "CASE-1", "--plan", "nope"], "error: plan: no plan 'nope'"),
        (["--account", "CASE-1", "--plan", "numbers", "--quantity", "-1"], "error: quantity:"),
        (["--account", "CASE-1", "--plan", "numbers", "--start", "soon"], "error: start:"),
    ],
)
def test_a_bad_order_prints_one_line_naming_the_option(
    shop: None, args: list[str], message: str
) -> None:
    # when a bad order is placed
    result = billstream("subscription", "create", *args)
    # then one red line names the option, the exit code is 1, and nothing is written
    assert result.exit_code == 1
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert rows("subscriptions") == 0


def test_a_preview_with_a_malformed_date_is_refused(shop: None) -> None:
    result = billstream("subscription", "preview", "CASE-1", "--until", "end of month")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: until: 'end of month' is not a date")
