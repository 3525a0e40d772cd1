"""`billstream ratecard import` of a file pricing one destination twice: windows apart load,
overlapping windows are one error line naming the row, and nothing is written."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import billstream, tables
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test
from tests.e2e.test_cli_usage import acme as acme  # a tenant holding the New York number

PRICE_CHANGE = """\
prefix,description,rate,effective_from,effective_to
1212,New York,0.012,,2026-02-01
1212,New York,0.010,2026-02-01,
1,North America,0.06,,
"""
OVERLAPPING = """\
prefix,description,rate,effective_from,effective_to
1212,New York,0.012,,2026-02-01
1,North America,0.06,,
1212,New York,0.010,2026-01-31,
"""


def _import(tmp_path: Path, text: str) -> tuple[int, str, str]:
    path = tmp_path / "retail.csv"
    path.write_text(text, encoding="utf-8")
    result = billstream(
        "ratecard", "import", str(path), "--tenant", "acme", "--name", "retail",
        "--kind", "retail", "--effective-from", "2026-01-01",
    )  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


def test_overlapping_windows_are_refused_and_windows_apart_load(acme: None, tmp_path: Path) -> None:
    # when a file prices New York twice over Jan 31
    code, _stdout, stderr = _import(tmp_path, OVERLAPPING)

    # then one line names the row, its column and the row it overlaps; exit 1
    assert code == 1
    assert stderr.strip() == (
        "error: line 4: effective_from: rows of one prefix, usage type and band have overlapping "
        "effective windows, so nothing was imported: line 4 effective_from: 1212 voice all "
        "[2026-01-31, open) overlaps line 2 [version start, 2026-02-01)"
    )

    # when the file is fixed (the new price from Feb 1) and imported
    code, stdout, _stderr = _import(tmp_path, PRICE_CHANGE)

    # then it is version 1 of the card: the refused file wrote nothing
    assert code == 0, stdout
    assert tables(stdout)["Rate card import"][1] == ["retail", "1", "3", "3", "0"]
