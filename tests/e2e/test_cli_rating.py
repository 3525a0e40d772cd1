"""`billstream ratecard import`, its rules (rounding, tiers, margins), `usage rate` and `usage
rerate` at the command line."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import billstream, tables
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test
from tests.e2e.test_cli_usage import acme as acme  # a tenant holding the New York number
from tests.e2e.test_cli_usage import cdrs as cdrs  # two overlapping Asterisk files

CARD = """\
prefix,description,rate,connect_fee,first_increment,next_increment
1,North America,0.06,,60,60
1212,New York,0.012,0.01,30,6
0,bad,1,,,
"""
IMPORT_HEADER = ["card", "version", "rows", "imported", "rejected"]


def _card(tmp_path: Path, text: str = CARD) -> Path:
    path = tmp_path / "retail.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_card_imports_with_its_bad_rows_listed_by_line_and_column(
    acme: None, tmp_path: Path
) -> None:
    args = ("ratecard", "import", str(_card(tmp_path)), "--tenant", "acme", "--name", "retail")
    result = billstream(*args, "--kind", "retail", "--effective-from", "2026-01-01")
    assert result.exit_code == 0, result.output
    found = tables(result.stdout)
    assert found["Rate card import"] == [IMPORT_HEADER, ["retail", "1", "3", "2", "1"]]
    assert found["Rejected rows"][1][:2] == ["4", "prefix"]
    again = billstream(*args, "--kind", "retail", "--effective-from", "2026-01-15")
    assert tables(again.stdout)["Rate card import"][1][:2] == ["retail", "2"]


def test_usage_is_rated_once_and_rerated_as_a_new_version(
    acme: None, cdrs: list[Path], tmp_path: Path
) -> None:
    imported = billstream(
        "usage", "import", *map(str, cdrs), "--format", "asterisk-cdr-csv", "--tenant", "acme"
    )
    assert imported.exit_code == 0, imported.output
    card = ("ratecard", "import", str(_card(tmp_path)), "--tenant", "acme", "--name", "retail")
    assert billstream(*card, "--kind", "retail", "--effective-from", "2026-01-01").exit_code == 0
    period = ("--tenant", "acme", "--from", "2026-01-01", "--to", "2026-02-01")

    rated = billstream("usage", "rate", *period)
    assert rated.exit_code == 0, rated.output
    [_header, row] = tables(rated.stdout)["Rating"]
    # 65 s to New York: 0.01 + 66 s (30 + 6 x 6) x 0.012/min = 0.0232; 5 s: 0.01 + 30 s = 0.016
    assert row[1:] == ["1", "2", "0", "0.039200 USD", "0.000000 USD", "0.000000 USD"]

    twice = billstream("usage", "rate", *period)
    assert twice.exit_code == 1
    assert "already rated" in twice.stderr

    rerated = billstream("usage", "rerate", *period)
    assert rerated.exit_code == 0, rerated.output
    [_header, row] = tables(rerated.stdout)["Rating"]
    assert row[1:] == ["2", "2", "0", "0.039200 USD", "0.000000 USD", "0.039200 USD"]


def test_rounding_rules_set_at_the_command_line_replace_the_card_increments(
    acme: None, cdrs: list[Path], tmp_path: Path
) -> None:
    imported = billstream(
        "usage", "import", *map(str, cdrs), "--format", "asterisk-cdr-csv", "--tenant", "acme"
    )
    assert imported.exit_code == 0, imported.output
    card = ("ratecard", "import", str(_card(tmp_path)), "--tenant", "acme", "--name", "retail")
    assert billstream(*card, "--kind", "retail", "--effective-from", "2026-01-01").exit_code == 0
    rules = billstream(
        *("ratecard", "rules", "--tenant", "acme", "--usage-type", "voice"),
        *("--free-below", "30", "--first", "60", "--next", "30", "--effective-from", "2026-01-01"),
    )
    assert rules.exit_code == 0, rules.output
    [header, row] = tables(rules.stdout)["Rounding rules of acme"]
    assert header[:5] == ["usage", "from", "free below", "first", "next"]
    assert [row[0], *row[2:]] == ["voice", "30", "60", "30", "up", "free", "start"]

    rated = billstream(
        "usage", "rate", "--tenant", "acme", "--from", "2026-01-01", "--to", "2026-02-01"
    )
    assert rated.exit_code == 0, rated.output
    # 65 s → 90 s: 0.01 + 90 s x 0.012/min = 0.028; 5 s is under 30 s: free, no connect fee
    assert tables(rated.stdout)["Rating"][1][4] == "0.028000 USD"


def test_tiers_at_the_command_line(acme: None) -> None:
    result = billstream(
        "ratecard", "tiers", "--tenant", "acme", "--usage-type", "voice",
        "--tier", "0:0.06", "--tier", "900:0.03", "--effective-from", "2026-01-01",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = tables(result.stdout)["Tiers of acme"]
    assert [(r[0], r[3], r[4]) for r in rows[1:]] == [
        ("voice", "0", "0.06"),
        ("voice", "900", "0.03"),
    ]
    bad = billstream(
        "ratecard", "tiers", "--tenant", "acme", "--usage-type", "voice", "--tier", "0:x"
    )
    assert bad.exit_code == 1
    assert "tier[0]" in bad.output


def test_split_bands_at_the_command_line(acme: None) -> None:
    result = billstream(
        "ratecard", "rules", "--tenant", "acme", "--first", "60", "--next", "60",
        "--split-bands", "--effective-from", "2026-01-01",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [header, row] = tables(result.stdout)["Rounding rules of acme"]
    assert (header[-1], row[0], row[-1]) == ("bands", "all", "split")


MARGIN_HEADER = ["usage", "prefix", "from", "percent", "min margin", "rule"]


def test_margin_rules_at_the_command_line(acme: None) -> None:
    # when a margin rule is set for UK voice, then one for everything else
    uk = billstream(
        "ratecard", "margin-rule", "--tenant", "acme", "--percent", "12.5", "--prefix", "+44",
        "--usage-type", "voice", "--min-margin", "0.002", "--from", "2026-01-01",
    )  # fmt: skip
    assert uk.exit_code == 0, uk.output
    rest = billstream("ratecard", "margin-rule", "--tenant", "acme", "--percent", "30")
    assert rest.exit_code == 0, rest.output

    # then the listing shows both, each with its id
    listed = billstream("ratecard", "margin-rules", "--tenant", "acme")
    assert listed.exit_code == 0, listed.output
    [header, *rows] = tables(listed.stdout)["Margin rules of acme"]
    assert header == MARGIN_HEADER
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("all", "all", "30", "-"),
        ("voice", "44", "12.5", "0.002"),
    ]
    assert all(r[5].startswith("mgr_") for r in rows)

    # when the UK rule is ended from Feb 1, then the end is listed after it
    end = billstream(
        "ratecard", "margin-rule-end", "--tenant", "acme", "--prefix", "44",
        "--usage-type", "voice", "--from", "2026-02-01",
    )  # fmt: skip
    assert end.exit_code == 0, end.output
    [_header, *rows] = tables(end.stdout)["Margin rules of acme"]
    assert [(r[0], r[1], r[2][:10], r[3]) for r in rows[1:]] == [
        ("voice", "44", "2026-01-01", "12.5"),
        ("voice", "44", "2026-02-01", "ended"),
    ]
    # and ending it again fails cleanly
    again = billstream("ratecard", "margin-rule-end", "--tenant", "acme", "--prefix", "44",
                       "--usage-type", "voice", "--from", "2026-03-01")  # fmt: skip
    assert again.exit_code == 1
    assert again.stderr.startswith("error: effective_from: "), again.stderr


def test_a_bad_margin_rule_fails_cleanly_naming_the_option(acme: None) -> None:
    for args, field in (
        (("--percent", "-100"), "percent"),
        (("--percent", "ten"), "percent"),
        (("--percent", "5", "--prefix", "4x"), "prefix"),
        (("--percent", "5", "--min-margin", "0.0000001"), "min-margin"),
    ):
        bad = billstream("ratecard", "margin-rule", "--tenant", "acme", *args)
        assert bad.exit_code == 1, args
        assert bad.stderr.startswith(f"error: {field}: "), bad.stderr
    listed = billstream("ratecard", "margin-rules", "--tenant", "acme")
    assert tables(listed.stdout)["Margin rules of acme"] == [MARGIN_HEADER]
