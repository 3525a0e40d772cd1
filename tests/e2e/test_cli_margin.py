"""`billstream usage margin` at the command line."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import billstream, tables
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test
from tests.e2e.test_cli_rating import _card
from tests.e2e.test_cli_usage import acme as acme  # a tenant holding the New York number
from tests.e2e.test_cli_usage import cdrs as cdrs  # two overlapping Asterisk files


def test_the_margin_per_destination_is_a_table(
    acme: None, cdrs: list[Path], tmp_path: Path
) -> None:
    imported = billstream(
        "usage", "import", *map(str, cdrs), "--format", "asterisk-cdr-csv", "--tenant", "acme"
    )
    assert imported.exit_code == 0, imported.output
    card = ("ratecard", "import", str(_card(tmp_path)), "--tenant", "acme", "--name", "retail")
    assert billstream(*card, "--kind", "retail", "--effective-from", "2026-01-01").exit_code == 0
    period = ("--tenant", "acme", "--from", "2026-01-01", "--to", "2026-02-01")
    assert billstream("usage", "rate", *period).exit_code == 0

    result = billstream("usage", "margin", *period, "--by", "destination")
    assert result.exit_code == 0, result.output
    [header, group, total] = tables(result.stdout)["Margin"]
    assert header[2:] == ["records", "minutes", "retail", "cost", "margin", "uncosted"]
    # 0.0232 + 0.016 (see test_cli_rating), no cost card: all margin, both uncosted
    assert group == ["1212", "New York", "2", "1.6", "0.039200 USD", "0.000000 USD",
                     "0.039200 USD", "2"]  # fmt: skip
    assert (total[0], total[6]) == ("total", "0.039200 USD")

    wrong = billstream("usage", "margin", *period, "--by", "planet")
    assert wrong.exit_code != 0
