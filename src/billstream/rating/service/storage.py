"""Writing rated rows in bulk, and their Parquet copy for reports.

PostgreSQL: ``COPY rated_usage (...) FROM STDIN`` through psycopg's copy on the session's own
connection (so the rows commit or roll back with the rest of the run), fed with CSV that
Polars writes in chunks: no Python object per row, no INSERT parsing per row. A worker thread
sends the chunks (`db.bulk.copy_in`, queued), so the next chunk is formatted while the server
parses the last one.

SQLite has no COPY. Its bulk path is one prepared INSERT run over many parameter sets
(`executemany`) inside the run's single transaction: SQLite is embedded, so there is no round
trip per row, and inside one transaction there is no journal sync per row either. The rows go
in chunks so a large run does not hold every row as Python dicts at once.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from billstream.db.bulk import copy_in
from billstream.rating.band_split import lineage_columns
from billstream.rating.models import RatedUsage

__all__ = [
    "RATED_USAGE_COLUMNS",
    "ParquetCopy",
    "rated_usage_rows",
    "store_rated_rows",
]

RATED_USAGE_COLUMNS = [c.name for c in RatedUsage.__table__.columns]
CHUNK = 100_000


def store_rated_rows(session: Session, rows: pl.DataFrame) -> int:
    """Insert `rows` (a frame with exactly `RATED_USAGE_COLUMNS`) into rated_usage."""
    frame = rows.select(RATED_USAGE_COLUMNS)
    if frame.is_empty():
        return 0
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, frame)
    else:
        _executemany(session, frame)
    return frame.height


def _executemany(session: Session, frame: pl.DataFrame) -> None:
    """SQLite: executemany of plain tuples at the driver, instants as the text `UTCDateTime`
    stores there (naive UTC), so no per-value Python type processing (as mediation does)."""
    tuples = frame.with_columns(pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M:%S%.6f"))
    marks = ", ".join("?" for _ in RATED_USAGE_COLUMNS)
    sql = f"INSERT INTO rated_usage ({', '.join(RATED_USAGE_COLUMNS)}) VALUES ({marks})"
    connection = session.connection()
    for chunk in tuples.iter_slices(CHUNK):
        connection.exec_driver_sql(sql, chunk.rows())


def _copy(session: Session, frame: pl.DataFrame) -> None:
    columns = ", ".join(RATED_USAGE_COLUMNS)
    statement = f"COPY rated_usage ({columns}) FROM STDIN (FORMAT csv)"
    # the queued writer's thread sends each chunk while the next one is formatted
    with copy_in(session, statement, queued=True) as copy:
        for chunk in frame.iter_slices(CHUNK):
            buffer = io.BytesIO()
            # no header; an empty unquoted field is NULL, an empty string is written quoted
            chunk.write_csv(
                buffer,
                include_header=False,
                datetime_format="%Y-%m-%d %H:%M:%S%.6f+00:00",
                quote_style="non_numeric",
                null_value="",
            )
            copy.write(buffer.getvalue())


class ParquetCopy:
    """A run's rated rows as Parquet under ``<data_dir>/rated/<tenant>/<run>.parquet``,
    written batch by batch: each batch to a part file, the parts then streamed into one file
    (so neither step holds more than a batch)."""

    def __init__(self, data_dir: Path, *, tenant_id: str, run_id: str) -> None:
        self.folder = Path(data_dir) / "rated" / tenant_id
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / f"{run_id}.parquet"
        self.parts: list[Path] = []

    def add(self, rows: pl.DataFrame) -> None:
        part = self.folder / f"{self.path.stem}.part{len(self.parts)}.parquet"
        rows.write_parquet(part, compression="lz4")
        self.parts.append(part)

    def finish(self) -> Path:
        if len(self.parts) == 1:
            self.parts[0].replace(self.path)
        else:
            pl.scan_parquet(self.parts).sink_parquet(self.path, compression="lz4")
            for part in self.parts:
                part.unlink()
        self.parts = []
        return self.path

    def discard(self) -> None:
        """Remove the parts written (the run failed: its rows were rolled back)."""
        for part in self.parts:
            part.unlink(missing_ok=True)
        self.parts = []


def rated_usage_rows(
    rated: pl.DataFrame, *, run_id: str, currency: str, first_row: int = 0
) -> pl.DataFrame:
    """Rated frame → rated_usage rows of run `run_id`: ids ordered within the run (``ru_``,
    20 hex digits of the run, 12 of the row number), margin = retail - cost. Without a
    ``margin_rule_id`` column (no margin rule in force) or a ``tier_set_id`` column (rated
    by `rater.rate` alone, not `rate_period`), that lineage is null."""
    prefix = run_id.split("_", 1)[1][:20]
    margin_rule_id, tier_set_id = (
        pl.col(name) if name in rated.columns else pl.lit(None, pl.String).alias(name)
        for name in ("margin_rule_id", "tier_set_id")
    )
    split = lineage_columns(rated.columns)  # band-split lineage (see `band_split`)
    # ids follow (account, time): the primary key and the (account_id, started_at) index are
    # then written in order, and a listing by id reads an account's records in time order
    return (
        rated.sort("account_id", "started_at", "record_key", nulls_last=True)
        .with_row_index("_n", offset=first_row)
        .select(
            (pl.lit(f"ru_{prefix}") + _hex12(pl.col("_n"))).alias("id"),
            pl.lit(run_id).alias("run_id"),
            pl.lit(None, pl.String).alias("superseded_by"),
            "tenant_id",
            "account_id",
            "record_key",
            "usage_type",
            "started_at",
            "duration_s",
            "quantity",
            "called",
            "carrier",
            "band",
            "rate_id",
            "card_version_id",
            "matched_prefix",
            margin_rule_id,
            "first_increment_s",
            "next_increment_s",
            "rounding_rule_id",
            tier_set_id,
            "billed_s",
            "billed_units",
            *split,
            "allowance_s",
            "allowance_units",
            pl.lit(currency).alias("currency"),
            "amount_micros",
            "cost_rate_id",
            "cost_card_version_id",
            "cost_prefix",
            pl.col("cost_micros").cast(pl.Int64),
            (pl.col("amount_micros") - pl.col("cost_micros").cast(pl.Int64)).alias("margin_micros"),
            "reject_reason",
        )
        .select(RATED_USAGE_COLUMNS)
    )


def _hex12(n: pl.Expr) -> pl.Expr:
    """`n` as 12 lowercase hex digits, vectorised (row numbers fit in 48 bits)."""
    digits = "0123456789abcdef"
    parts = [
        ((n // (16 ** (11 - i))) % 16).replace_strict(
            range(16), list(digits), return_dtype=pl.String
        )
        for i in range(12)
    ]
    return pl.concat_str(parts)
