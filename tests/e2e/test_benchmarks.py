"""The benchmarks run end to end at a tiny size, so a change that breaks one fails here and not
on the day someone needs its figures (the bill-run benchmark's data generator once fell behind
a new rated-usage column unnoticed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _figures(*args: str) -> dict[str, Any]:
    """Run `python -m benchmarks.<args>` with --json and return its last line's figures."""
    done = subprocess.run(
        [sys.executable, "-m", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def test_the_rating_benchmark_rates_stores_and_agrees_with_the_reference(tmp_path: Path) -> None:
    figures = _figures(
        "benchmarks.rating", "--rows", "3000", "--accounts", "50", "--prefixes", "300",
        "--sample", "300", "--workdir", str(tmp_path), "--database", f"sqlite:///{tmp_path}/r.db",
    )  # fmt: skip
    assert figures["rows"] == 3000
    positive = ("cdrs_per_s", "stored_rows_per_s", "naive_speedup", "copy_floor_ratio")
    assert min(figures[k] for k in positive) > 0


def test_the_bill_run_benchmark_bills_and_checks_a_small_provider(tmp_path: Path) -> None:
    figures = _figures(
        "benchmarks.bill_run", "--accounts", "40", "--sample", "10", "--pdfs", "1",
        "--workers", "1", "--database", f"sqlite:///{tmp_path}/b.db",
    )  # fmt: skip
    assert (figures["backend"], figures["accounts"], figures["pdfs"]) == ("sqlite", 40, 1)
    assert 0 < figures["invoices"] <= figures["payers"] <= 40
    assert min(figures["rated_rows"], figures["invoices_per_s"], figures["pdfs_per_s"]) > 0
