"""`billstream tenant config`: what is in force for a tenant on a day, and who set it."""

from __future__ import annotations

from tests.e2e.test_cli import billstream, tables
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test
from tests.e2e.test_cli import migrated as migrated
from tests.e2e.test_cli import northwind as northwind  # a New York parent

HEADER = ["key", "value", "set by", "from", "to"]


def test_a_brand_sees_its_parents_rules_and_its_own_with_their_windows(northwind: None) -> None:
    # given a brand of northwind, northwind's rounding rules from Jan 1 replaced from Jun 1,
    # its margin rule and GB VAT, and the brand's own voice rounding from Mar 1
    brand = billstream("tenant", "create", "nw-uk", "--name", "UK", "--parent", "northwind")
    assert brand.exit_code == 0, brand.output
    for args in (
        ("ratecard", "rules", "--tenant", "northwind", "--first", "60", "--next", "30",
         "--effective-from", "2026-01-01"),
        ("ratecard", "rules", "--tenant", "northwind", "--first", "1", "--next", "1",
         "--effective-from", "2026-06-01"),
        ("ratecard", "rules", "--tenant", "nw-uk", "--usage-type", "voice", "--first", "6",
         "--next", "6", "--effective-from", "2026-03-01"),
        ("ratecard", "margin-rule", "--tenant", "northwind", "--percent", "12.5",
         "--effective-from", "2026-01-01"),
        ("tax", "set", "--tenant", "northwind", "--jurisdiction", "GB", "--name", "VAT",
         "--rate", "20", "--from", "2026-01-01"),
    ):  # fmt: skip
        done = billstream(*args)
        assert done.exit_code == 0, done.output

    # when the operator asks for the brand on Apr 15
    result = billstream("tenant", "config", "nw-uk", "--on", "2026-04-15")

    # then one table per kind names the tenant that set each value and its window
    assert result.exit_code == 0, result.output
    found = tables(result.stdout)
    assert found["Rounding rules"] == [
        HEADER,
        ["voice", "6/6", "nw-uk", "2026-03-01 05:00 UTC", "-"],
        ["all", "60/30", "northwind", "2026-01-01 05:00 UTC", "2026-06-01 04:00 UTC"],
    ]
    assert found["Tiers"] == [HEADER]
    assert found["Margin rules"] == [
        HEADER, ["all all", "12.5 %", "northwind", "2026-01-01 05:00 UTC", "-"]
    ]  # fmt: skip
    assert found["Tax rules"] == [HEADER, ["GB VAT", "20 %", "northwind", "2026-01-01", "-"]]

    # a day outside the dates billstream accepts, and an unknown tenant, are one red line
    early = billstream("tenant", "config", "nw-uk", "--on", "0001-01-01")
    assert (early.exit_code, "on:" in early.output) == (1, True), early.output
    unknown = billstream("tenant", "config", "nobody")
    assert unknown.exit_code == 1
    assert "nobody" in unknown.output
