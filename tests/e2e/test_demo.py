"""`billstream demo`, small, end to end: the provider's month through mediation, rating, bill
runs and PDFs, as the operator reads it (a fresh SQLite file and data dir per test)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.e2e.test_cli import billstream, tables
from typer.testing import Result

SMALL = ("--accounts", "60", "--cdrs", "5000", "--pdfs", "2", "--seed", "7")
BRANDS = ["Northwind US (US)", "Northwind UK (UK)", "Northwind Singapore (SG)"]


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BILLSTREAM_DATA_DIR", str(tmp_path / "var"))
    for name in ("BILLSTREAM_DATABASE_URL", "BILLSTREAM_SECRET_KEY", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    assert billstream("db", "upgrade").exit_code == 0
    return tmp_path / "var"


def table_titled(output: str, start: str) -> list[list[str]]:
    matches = [rows for title, rows in tables(output).items() if title.startswith(start)]
    assert len(matches) == 1, list(tables(output))
    return matches[0]


@pytest.fixture(scope="module")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    new_database_url: Callable[[str], str],
) -> tuple[Result, Path]:
    """One small demo shared by the tests below (it takes a few seconds), on each backend:
    the embedded SQLite file, and a PostgreSQL database (which enforces what SQLite does not,
    such as a column's length)."""
    base = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(base)
        patch.setenv("BILLSTREAM_DATA_DIR", str(base / "var"))
        for name in ("BILLSTREAM_DATABASE_URL", "BILLSTREAM_SECRET_KEY", "FORCE_COLOR"):
            patch.delenv(name, raising=False)
        if backend == "postgresql":
            patch.setenv("BILLSTREAM_DATABASE_URL", new_database_url(backend))
        assert billstream("db", "upgrade").exit_code == 0
        result = billstream("demo", *SMALL)
    return result, base / "var"


def test_the_demo_bills_every_brand_and_times_each_stage(
    demo_run: tuple[Result, Path],
) -> None:
    # when the demo runs small
    result, _ = demo_run

    # then it exits cleanly, every stage is timed, and each brand has invoices
    assert result.exit_code == 0, result.output
    stages = [row[0] for row in table_titled(result.stdout, "Stages of this run")[1:]]
    assert stages == [
        "setup",
        "anniversary bill runs",
        "CDR generation",
        "mediation",
        "rating",
        "month-end bill runs",
        "invoice PDFs",
        "total",
    ]
    runs = table_titled(result.stdout, "Bill runs of January 2026")
    assert runs[0][:4] == ["brand", "runs", "accounts", "invoiced"]
    assert [row[0] for row in runs[1:]] == BRANDS
    assert all(int(row[3]) > 0 and row[5] == "0" for row in runs[1:])  # invoiced, none failed
    assert [row[-1].split()[-1] for row in runs[1:]] == ["USD", "GBP", "SGD"]


def test_the_demo_shows_rejects_of_mediation_and_rating_and_the_margin(
    demo_run: tuple[Result, Path],
) -> None:
    result, _ = demo_run

    # every record of each file is accounted for
    files = table_titled(result.stdout, "Usage files received")[1:]
    assert len(files) == 6
    for _name, records_in, accepted, rejected, duplicates in files:
        counts = [int(n.replace(",", "")) for n in (records_in, accepted, rejected, duplicates)]
        assert counts[0] == counts[1] + counts[2] + counts[3]
    assert sum(int(row[1].replace(",", "")) for row in files) == 5000
    # rejects: unknown numbers and malformed lines at mediation, unrated calls at rating
    rejects = table_titled(result.stdout, "Rejected records")[1:]
    reasons = {(row[0].split()[0], row[1]) for row in rejects}
    assert ("mediation", "unknown_number") in reasons
    assert ("rating", "no_rate") in reasons
    assert "billstream usage rejects --tenant northwind --reason unknown_number" in result.stdout
    # margin per carrier, with a total per brand in its currency
    margin = table_titled(result.stdout, "Margin per carrier, January 2026")
    totals = {row[0]: row[6] for row in margin[1:] if row[0].endswith("total")}
    assert set(totals) == {"SG total", "UK total", "US total"}
    assert totals["UK total"].endswith(" GBP")


def test_org_abc_is_invoiced_as_spec_c2_and_c4_say(demo_run: tuple[Result, Path]) -> None:
    result, _ = demo_run

    # ABC's invoice carries ABC + HR + Sales; Support's carries Support + Tier1 + Tier2
    invoices = table_titled(result.stdout, "Org ABC's invoices of 2026-01-31")[1:]
    carried: dict[str, list[str]] = {}
    number = ""
    for row in invoices:
        number = row[0] or number
        carried.setdefault(number, []).append(row[1])
    assert sorted(carried.values()) == [["Org ABC", "HR", "Sales"], ["Support", "Tier1", "Tier2"]]
    assert "Org ABC's invoice NWUS-2026-" in result.stdout
    assert "carries: Org ABC, HR, Sales; total" in result.stdout
    assert "carries: Support, Tier1, Tier2; total" in result.stdout
    # and its numbers are billed at SPEC C4's figures (January, then February in advance)
    numbers = table_titled(result.stdout, "Org ABC's numbers, invoiced (SPEC C4)")[1:]
    abc = [(row[2], row[3], row[5]) for row in numbers if row[1] == "Org ABC"]
    assert abc == [
        ("Jan 01 - Jan 31", "50", "250.00"),
        ("Jan 16 - Jan 31", "10", "25.81"),
        ("Feb 01 - Feb 24", "60", "257.14"),
        ("Feb 25 - Feb 28", "55", "39.29"),
    ]


def test_the_demo_leaves_pdfs_of_org_abc_under_the_data_dir(
    demo_run: tuple[Result, Path],
) -> None:
    result, var = demo_run

    pdfs = sorted(var.glob("invoices/*/*.pdf"))
    assert [p.parent.name for p in pdfs] == ["northwind-us", "northwind-us"]
    assert all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    assert f"2 invoice PDFs under {var / 'invoices'}" in result.stdout
    assert "GET /v1/invoices/{id}/pdf" in result.stdout
    assert "billstream serve" in result.stdout


def test_a_second_run_bills_nothing_again() -> None:
    # given a finished demo
    first = billstream("demo", "--accounts", "12", "--cdrs", "500", "--pdfs", "0")
    assert first.exit_code == 0, first.output

    # when it runs again
    second = billstream("demo", "--accounts", "12", "--cdrs", "500", "--pdfs", "0")

    # then it only shows the same month: no stage ran, the same runs and invoices
    assert second.exit_code == 0, second.output
    assert second.stdout.startswith("demo data already loaded\n")
    assert "Stages of this run" not in second.stdout
    for title in ("Bill runs of January 2026", "Usage files received", "Rejected records"):
        assert table_titled(second.stdout, title) == table_titled(first.stdout, title)
