"""Rating a month of CDRs: billstream's vectorised path against the floor and the naive way.

Generates (once, cached in `--workdir`) a deterministic synthetic month: `--rows` CDRs
(default 10M) from `--accounts` accounts (default 100k, one number each) to destinations of a
nested card of `--prefixes` prefixes (default 50k, 1 to 8 digits, some split in peak and
off-peak bands), as a CSV file. Then measures in one run:

(a) the floor: Polars reading the same CSV (every field parsed, streamed, nothing else);
(a2) a reference: Polars copying the CSV into Parquet unchanged (the Parquet settings of (b)),
    what writing any Parquet of the records costs before a column is routed or rated;
(b) billstream's whole path: CSV → routed to accounts through the number inventory (a join on
    the calling number; every assignment spans the month) → rated by `rating.rater.rate` →
    rated Parquet, streamed;
(c) the per-record reference rater (`rating.reference`, plain Python and Decimal, the card
    indexed by prefix) on a `--sample` of records, whose figures are checked against (b);
(d) with `--database URL`, storing the rated rows into that database through the service's
    bulk path (COPY on PostgreSQL, one executemany on SQLite).

Both (a) and (b) read the CSV in 8 MiB chunks (`POLARS_CSV_CHUNK_SIZE`, unless set). With
its default, Polars' streaming CSV reader on this machine holds about 300 MB of chunks
whatever the file's size: (a) alone peaked at 425 MB, against 216 MB with 8 MiB chunks, at
the same speed (0.64-0.70 s), and (b) at 560-585 MB against 375-385 MB. That
memory is the reader's read-ahead, not billstream's.

Prints CDRs/s, peak RSS, the ratio to the floor and the speed-up over (c); with `--json` ends
with one JSON line (`cdrs_per_s`, `floor_ratio`, `naive_speedup`, `peak_rss_mb`,
`copy_floor_ratio` (a2 over a), and `stored_rows_per_s` with `--database`).

    python -m benchmarks.rating [--rows 10000000] [--database URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from billstream.rating.rater import RATE_SCHEMA, rate
from billstream.rating.reference import index_rates, rate_record

MONTH = datetime(2026, 1, 1, tzinfo=UTC)
SECONDS_IN_MONTH = 31 * 86_400
TIMEZONE = "Europe/London"
NUMBER_LENGTH = 11  # digits of a generated destination
CSV_CHUNK_BYTES = 8 << 20  # see the module's docstring
PARQUET: dict[str, Any] = {"compression": "lz4", "row_group_size": 100_000}  # (a2) and (b)
CSV_SCHEMA = {
    "call_id": pl.String,
    "start": pl.String,
    "duration": pl.Int64,
    "usage_type": pl.String,
    "calling": pl.String,
    "called": pl.String,
}
console = Console()


# --- the synthetic month -------------------------------------------------------------------


def make_card(prefixes: int, seed: int) -> pl.DataFrame:
    """A nested card: country codes, then longer prefixes grown from existing ones."""
    rng = random.Random(seed)
    found = {"1", "7", "20", "27", "30", "31", "33", "34", "39", "44", "49", "61", "81", "86"}
    while len(found) < min(200, prefixes):
        found.add(str(rng.randint(2, 9)) + str(rng.randint(0, 99)).zfill(rng.choice((1, 2)))[:2])
    pool = sorted(found)
    while len(found) < prefixes:
        parent = rng.choice(pool)
        if len(parent) >= 8:
            continue
        child = parent + str(rng.randrange(10))
        if child not in found:
            found.add(child)
            pool.append(child)
    rows: list[dict[str, Any]] = []
    increments = ((60, 60), (30, 6), (1, 1))
    for i, prefix in enumerate(sorted(found)):
        first, next_ = increments[i % 3]
        common = {
            "card_version_id": "v1",
            "account_id": None,
            "prefix": prefix,
            "usage_type": "voice",
            "valid_from": datetime(2025, 1, 1, tzinfo=UTC),
            "valid_to": None,
            "connect_fee_micros": rng.choice((0, 0, 5_000, 10_000)),
            "min_duration_s": rng.choice((0, 0, 0, 30)),
            "first_increment_s": first,
            "next_increment_s": next_,
        }
        bands = ("peak", "offpeak", "weekend") if i % 10 == 0 else ("all",)
        for band in bands:
            rows.append(
                common
                | {
                    "rate_id": f"r{i}-{band}",
                    "band": band,
                    "rate_micros": rng.randint(1_000, 900_000),
                }
            )
        if i % 50 == 0:
            rows.append(
                common
                | {
                    "rate_id": f"s{i}",
                    "usage_type": "sms",
                    "band": "all",
                    "rate_micros": rng.randint(1_000, 90_000),
                    "first_increment_s": 1,
                    "next_increment_s": 1,
                }
            )
    return pl.DataFrame(rows, schema=RATE_SCHEMA)


def account_numbers(accounts: int) -> pl.DataFrame:
    return pl.DataFrame({"n": range(accounts)}).select(
        ("+4420" + (pl.col("n") * 37 + 10_000_000).cast(pl.String)).alias("number"),
        pl.lit("ten_bench").alias("tenant_id"),
        ("acc_" + pl.col("n").cast(pl.String)).alias("account_id"),
    )


def _draw(column: str, salt: int, seed: int) -> pl.Expr:
    return (pl.col(column) * 0x9E3779B1 + salt).hash(seed)


def write_month(path: Path, *, rows: int, card: pl.DataFrame, accounts: int, seed: int) -> None:
    """Stream `rows` CDRs into `path` (a CSV): all vectorised, deterministic for a seed."""
    prefixes = card.select(pl.col("prefix").unique().sort()).with_row_index("p")
    numbers = account_numbers(accounts).with_row_index("a").select("a", "number")
    n_prefixes = prefixes.height
    calls = (
        pl.LazyFrame({"i": pl.int_range(rows, dtype=pl.Int64, eager=True)})
        .with_columns(
            (_draw("i", 1, seed) % n_prefixes).cast(pl.UInt32).alias("p"),
            (_draw("i", 2, seed) % accounts).cast(pl.UInt32).alias("a"),
            (_draw("i", 3, seed) % SECONDS_IN_MONTH).cast(pl.Int64).alias("offset"),
            (_draw("i", 4, seed) % 100).cast(pl.Int64).alias("kind"),
            (_draw("i", 5, seed) % 10**12).cast(pl.Int64).alias("tail"),
            (_draw("i", 6, seed) % 1_800).cast(pl.Int64).alias("length"),
        )
        .join(prefixes.lazy(), on="p", how="left")
        .join(numbers.lazy(), on="a", how="left")
    )
    digits = NUMBER_LENGTH - pl.col("prefix").str.len_chars().cast(pl.Int64)
    scale = pl.lit(10, pl.Int64).pow(digits)
    called = pl.col("prefix").cast(pl.Int64) * scale + pl.col("tail") % scale
    start = pl.lit(MONTH) + pl.duration(seconds=pl.col("offset"))
    calls.select(
        ("c" + pl.col("i").cast(pl.String)).alias("call_id"),
        start.dt.strftime("%Y-%m-%d %H:%M:%S").alias("start"),
        pl.when(pl.col("kind") < 15).then(0).otherwise(pl.col("length")).alias("duration"),
        pl.when(pl.col("kind") >= 95)
        .then(pl.lit("sms"))
        .otherwise(pl.lit("voice"))
        .alias("usage_type"),
        pl.col("number").alias("calling"),
        ("+" + called.cast(pl.String)).alias("called"),
    ).sink_csv(path)


# --- the measured paths --------------------------------------------------------------------


def floor(path: Path) -> int:
    """(a) Read every field of the CSV, streamed, and nothing more."""
    strings = [c for c, t in CSV_SCHEMA.items() if t == pl.String]
    out = (
        pl.scan_csv(path, schema=CSV_SCHEMA)
        .select(
            pl.len(), pl.col("duration").sum(), *(pl.col(c).str.len_bytes().sum() for c in strings)
        )
        .collect(engine="streaming")
    )
    return int(out["len"][0])


def parquet_copy(path: Path, out: Path) -> None:
    """(a2) The CSV into Parquet as read: no routing, no rating, (b)'s Parquet settings."""
    pl.scan_csv(path, schema=CSV_SCHEMA).sink_parquet(out, **PARQUET)


def accepted_usage(path: Path, numbers: pl.DataFrame) -> pl.LazyFrame:
    """The CSV as the accepted-usage frame, routed through the number inventory.

    Routing is an exact look-up of the calling number (every assignment of the synthetic
    month spans the month, so the as-of part of `accounts.number_lookup.holders_at` has
    nothing to choose): a left join on the number as an integer, the inventory (100k rows)
    the build side, the CSV's order kept. On integer keys Polars' streaming join is faster
    and holds less than a binary search in a Python batch function (which holds the GIL)."""
    inventory = numbers.select(
        pl.col("number").str.strip_prefix("+").cast(pl.Int64).alias("_code"),
        pl.col("tenant_id").cast(pl.Categorical),  # a few tenants: not a string per record
        "account_id",
    )
    routed = (
        pl.scan_csv(path, schema=CSV_SCHEMA)
        .with_columns(
            pl.col("calling").str.strip_prefix("+").cast(pl.Int64, strict=False).alias("_code")
        )
        .join(inventory.lazy(), on="_code", how="left", maintain_order="left")
    )
    return routed.select(
        pl.col("call_id").alias("record_key"),
        "tenant_id",
        "account_id",
        "usage_type",
        pl.col("start")
        .str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="UTC", cache=False)  # few repeats
        .alias("started_at"),
        pl.when(pl.col("usage_type") == "sms")
        .then(0)
        .otherwise(pl.col("duration"))
        .alias("duration_s"),
        pl.when(pl.col("usage_type") == "sms").then(1).otherwise(0).alias("quantity"),
        "calling",
        "called",
    )


def whole_path(path: Path, numbers: pl.DataFrame, card: pl.DataFrame, out: Path) -> None:
    """(b) CSV → routed → rated → rated Parquet, streamed."""
    rated = rate(accepted_usage(path, numbers), card.lazy(), timezone=TIMEZONE)
    parquet_columns(rated).sink_parquet(out, **PARQUET)


SMALL_INTS = (
    "duration_s",
    "quantity",
    "first_increment_s",
    "next_increment_s",
    "billed_s",
    "billed_units",
)


def parquet_columns(rated: pl.LazyFrame) -> pl.LazyFrame:
    """The rated columns the Parquet copy keeps, narrowed: what `rated_usage` stores (the
    routing input `calling` and the rate's prices, which `rate_id` and `card_version_id`
    identify, are left out), seconds and units as Int32 (a cast that fails rather than wraps),
    the usage type as a `pl.Enum` (dictionary-encoded, not a string per row; the rater's band,
    reject reason and rate columns are enums already)."""
    return rated.drop("calling", "rate_micros", "connect_fee_micros").with_columns(
        pl.col(*SMALL_INTS).cast(pl.Int32),
        pl.col("usage_type").cast(pl.Enum(["voice", "sms"])),
    )


def naive(sample: list[dict[str, Any]], card: pl.DataFrame) -> tuple[float, dict[str, int]]:
    """(c) The per-record reference rater over `sample`: seconds taken and the amounts."""
    index = index_rates(card.to_dicts())
    began = time.perf_counter()
    rated = [rate_record(r, index, timezone=TIMEZONE) for r in sample]
    return time.perf_counter() - began, {r.record_key: r.amount_micros for r in rated}


def store_rated(url: str, rated_path: Path) -> tuple[int, float]:
    """(d) Store the rated rows through the service's bulk path, in slices of 1M rows, in one
    transaction; the seconds exclude setting up the tenant and the run.

    The rows are stored in (account, time) order, as `rate_period` stores them (it rates
    whole accounts read in account order, and numbers the rows in that order): the Parquet
    copy of (b) is in the CSV's order, so it is first sorted, streamed, untimed.

    The database layer is imported here, after (b) is measured: the rating path does not
    use it, and importing it (SQLAlchemy, the models, the services) adds about 50 MB to the
    process, which the peak RSS of (b) would otherwise count."""
    from billstream.core.clock import FakeClock
    from billstream.core.ids import new_id
    from billstream.db.engine import make_engine, make_session_factory
    from billstream.db.migrate import upgrade
    from billstream.rating.models import RatingRun
    from billstream.rating.service.runs import COST_COLUMNS
    from billstream.rating.service.storage import rated_usage_rows, store_rated_rows
    from billstream.tenants.service import create_tenant

    engine = make_engine(url)
    upgrade(engine)
    clock = FakeClock(datetime(2026, 2, 1, tzinfo=UTC))
    factory = make_session_factory(engine)
    ordered = rated_path.with_suffix(".by-account.parquet")
    pl.scan_parquet(rated_path).sort("account_id", "started_at", "record_key").sink_parquet(
        ordered, row_group_size=100_000
    )
    total = pl.scan_parquet(ordered).select(pl.len()).collect().item()
    with factory() as session:
        slug = f"bench-{time.time_ns()}"
        tenant = create_tenant(
            session, clock=clock, slug=slug, name="Benchmark", settings={"currency": "GBP"}
        )
        run = RatingRun(
            id=new_id("rr"),
            tenant_id=tenant.id,
            account_id=None,
            period_start=MONTH,
            period_end=datetime(2026, 2, 1, tzinfo=UTC),
            version=1,
            currency="GBP",
            rated=total,
            rejected=0,
            superseded=0,
            retail_micros=0,
            cost_micros=0,
            superseded_micros=0,
            parquet_path=str(rated_path),
            created_at=clock.now(),
        )
        session.add(run)
        session.flush()
        began = time.perf_counter()
        for first in range(0, total, 1_000_000):
            rated = (
                pl.scan_parquet(ordered)
                .slice(first, 1_000_000)
                .with_columns(
                    pl.lit(tenant.id).alias("tenant_id"),
                    pl.lit(None, pl.String).alias("carrier"),
                    pl.lit(0, pl.Int64).alias("allowance_s"),
                    pl.lit(0, pl.Int64).alias("allowance_units"),
                    *(pl.lit(None, pl.String).alias(c) for c in COST_COLUMNS.values()),
                )
                .collect()
            )
            rows = rated_usage_rows(rated, run_id=run.id, currency="GBP", first_row=first)
            store_rated_rows(session, rows)
        session.commit()
        elapsed = time.perf_counter() - began
    engine.dispose()
    ordered.unlink()
    return total, elapsed


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, work: Any) -> float:
    with console.status(label):
        began = time.perf_counter()
        work()
        return time.perf_counter() - began


def prepare(args: argparse.Namespace) -> tuple[Path, Path]:
    """The cached CSV and card for these arguments, generated in a child process if missing
    (so generating them does not count in this process's peak RSS)."""
    stem = f"month-{args.rows}-{args.accounts}-{args.prefixes}-{args.seed}"
    csv_path, card_path = args.workdir / f"{stem}.csv", args.workdir / f"{stem}.card.parquet"
    if not (csv_path.exists() and card_path.exists()):
        args.workdir.mkdir(parents=True, exist_ok=True)
        with console.status(f"generating {args.rows:,} CDRs into {csv_path}"):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.rating",
                    "--generate-only",
                    "--rows",
                    str(args.rows),
                    "--accounts",
                    str(args.accounts),
                    "--prefixes",
                    str(args.prefixes),
                    "--seed",
                    str(args.seed),
                    "--workdir",
                    str(args.workdir),
                ],
                check=True,
            )
    return csv_path, card_path


def generate(args: argparse.Namespace) -> None:
    stem = f"month-{args.rows}-{args.accounts}-{args.prefixes}-{args.seed}"
    card = make_card(args.prefixes, args.seed)
    card.write_parquet(args.workdir / f"{stem}.card.parquet")
    tmp = args.workdir / f"{stem}.csv.part"
    write_month(tmp, rows=args.rows, card=card, accounts=args.accounts, seed=args.seed)
    tmp.rename(args.workdir / f"{stem}.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--prefixes", type=int, default=50_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "billstream-bench"
    )
    parser.add_argument("--database", help="also store the rated rows into this database URL")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.generate_only:
        generate(args)
        return
    csv_path, card_path = prepare(args)
    os.environ.setdefault("POLARS_CSV_CHUNK_SIZE", str(CSV_CHUNK_BYTES))  # read at each scan
    card = pl.read_parquet(card_path)
    numbers = account_numbers(args.accounts)
    rated_path = args.workdir / "rated.parquet"

    floor_s = timed("(a) reading the CSV", lambda: floor(csv_path))
    path_s = timed(
        "(b) CSV → routed → rated → Parquet",
        lambda: whole_path(csv_path, numbers, card, rated_path),
    )
    rss = peak_rss_mb()
    copy_path = args.workdir / "copied.parquet"
    copy_s = timed("(a2) copying the CSV into Parquet", lambda: parquet_copy(csv_path, copy_path))
    copy_path.unlink()
    sample = accepted_usage(csv_path, numbers).head(args.sample).collect().to_dicts()
    naive_s, amounts = naive(sample, card)
    fast = (
        pl.scan_parquet(rated_path)
        .filter(pl.col("record_key").is_in(list(amounts)))
        .select("record_key", "amount_micros")
        .collect()
    )
    if dict(fast.iter_rows()) != amounts:
        raise SystemExit("the vectorised and the per-record rater disagree on the sample")
    figures: dict[str, Any] = {
        "rows": args.rows,
        "cdrs_per_s": round(args.rows / path_s),
        "floor_ratio": round(path_s / floor_s, 2),
        "naive_speedup": round((args.rows / path_s) / (len(sample) / naive_s), 1),
        "peak_rss_mb": round(rss),
        "copy_floor_ratio": round(copy_s / floor_s, 2),
    }
    table = Table(
        "measure", "seconds", "CDRs/s", title=f"Rating {args.rows:,} CDRs ({card.height:,} rates)"
    )
    table.add_row(
        "(a) Polars reads the CSV (floor)", f"{floor_s:.2f}", f"{args.rows / floor_s:,.0f}"
    )
    table.add_row(
        "(a2) Polars copies the CSV into Parquet", f"{copy_s:.2f}", f"{args.rows / copy_s:,.0f}"
    )
    table.add_row(
        "(b) CSV → routed → rated → Parquet", f"{path_s:.2f}", f"{args.rows / path_s:,.0f}"
    )
    table.add_row(
        f"(c) per-record rater, {len(sample):,} sample",
        f"{naive_s:.2f}",
        f"{len(sample) / naive_s:,.0f}",
    )
    if args.database:
        stored, store_s = store_rated(args.database, rated_path)
        figures["stored_rows_per_s"] = round(stored / store_s)
        table.add_row(
            f"(d) store {stored:,} rated rows", f"{store_s:.2f}", f"{stored / store_s:,.0f}"
        )
    console.print(table)
    console.print(
        f"peak RSS {figures['peak_rss_mb']} MB; {figures['floor_ratio']}x the floor; "
        f"{figures['naive_speedup']}x the per-record rater; sample amounts agree; copying "
        f"the CSV into Parquet unchanged is {figures['copy_floor_ratio']}x the floor"
    )
    if args.json:
        console.print(json.dumps(figures), highlight=False, soft_wrap=True)


if __name__ == "__main__":
    main()
