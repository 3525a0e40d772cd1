"""Included quantities and period tiers, applied to rated usage of one billing period.

Pure: rated frames in, rated frames out. Both work on the running total of each account's
billed quantity in the period, in time order (``started_at``, then ``record_key`` so equal
instants have a fixed order): a window `cum_sum` per account and usage type, no loop.

* **Allowances**: a plan's included quantity (500 minutes = 30,000 s) covers the first
  billed seconds of the period. A record that crosses the end of the allowance is split: its
  covered part goes to ``allowance_s`` (``allowance_units``), only the rest stays in
  ``billed_s`` and is charged. A fully covered record costs nothing, connect fee included.
  A call split at band boundaries (``band_parts``) is covered from its start: its first
  parts go first, and the charged rest is priced part by part at each part's rate.
* **Tiers**: graduated prices on the period's total: each record's slice of each tier is
  priced at that tier's rate, and the call's amount is rounded once, half-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from billstream.rating.rater import TIME_USAGE, amount_expr

__all__ = ["ALLOWANCE_SCHEMA", "Tier", "apply_tiers", "consume_allowances"]

ALLOWANCE_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "usage_type": pl.String(),
    "included": pl.Int64(),  # seconds for time usage, units otherwise
}
_ORDER = ["started_at", "record_key"]


def _billed() -> pl.Expr:
    return pl.col("billed_s") + pl.col("billed_units")


def _running_total(quantity: pl.Expr) -> pl.Expr:
    """The account's billed quantity up to and including each record, in time order."""
    return quantity.cum_sum().over(["account_id", "usage_type"], order_by=_ORDER)


def consume_allowances(rated: pl.LazyFrame, allowances: pl.LazyFrame) -> pl.LazyFrame:
    """Take each account's included quantities off its first billed usage of the period.

    Parameters
    ----------
    rated
        Output of `rater.rate` for one billing period.
    allowances
        Rows of `ALLOWANCE_SCHEMA`: what each account's plan includes this period.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> calls = pl.LazyFrame({"record_key": ["a", "b", "c"], "account_id": ["x"] * 3,
    ...     "usage_type": ["voice"] * 3, "duration_s": [240, 240, 60],
    ...     "started_at": [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)],
    ...     "billed_s": [240, 240, 60], "billed_units": [0, 0, 0],
    ...     "rate_micros": [60_000] * 3, "connect_fee_micros": [0] * 3,
    ...     "amount_micros": [240_000, 240_000, 60_000], "rate_id": ["r"] * 3})
    >>> five_minutes = pl.LazyFrame({"account_id": ["x"], "usage_type": ["voice"],
    ...     "included": [300]})
    >>> consume_allowances(calls, five_minutes).select(
    ...     "record_key", "allowance_s", "billed_s", "amount_micros").collect()
    shape: (3, 4)
    ┌────────────┬─────────────┬──────────┬───────────────┐
    │ record_key ┆ allowance_s ┆ billed_s ┆ amount_micros │
    │ ---        ┆ ---         ┆ ---      ┆ ---           │
    │ str        ┆ i64         ┆ i64      ┆ i64           │
    ╞════════════╪═════════════╪══════════╪═══════════════╡
    │ a          ┆ 240         ┆ 0        ┆ 0             │
    │ b          ┆ 60          ┆ 180      ┆ 180000        │
    │ c          ┆ 0           ┆ 60       ┆ 60000         │
    └────────────┴─────────────┴──────────┴───────────────┘
    """
    is_time = pl.col("usage_type").is_in(sorted(TIME_USAGE))
    billed = _billed()
    before = _running_total(billed) - billed
    covered = pl.min_horizontal(pl.max_horizontal(pl.col("_included") - before, 0), billed)
    frame = (
        rated.join(
            allowances.cast(ALLOWANCE_SCHEMA),  # type: ignore[arg-type]
            on=["account_id", "usage_type"],
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("included").fill_null(0).alias("_included"))
        .with_columns(covered.alias("_covered"))
    )
    if "band_parts" in frame.collect_schema().names():
        frame = _split_rest(frame)
    charged = billed - pl.col("_covered")
    recomputed = amount_expr(
        charged,
        rate=pl.col("rate_micros"),
        fee=pl.col("connect_fee_micros"),
        per_minute=is_time,
        fee_due=pl.lit(False),
    )
    if "_split_rest" in frame.collect_schema().names():
        recomputed = pl.coalesce("_split_rest", recomputed)
    return frame.with_columns(
        pl.when(pl.col("_covered") == 0)
        .then(pl.col("amount_micros"))
        .otherwise(recomputed)
        .alias("amount_micros"),
        pl.when(is_time).then(pl.col("_covered")).otherwise(0).alias("allowance_s"),
        pl.when(is_time).then(0).otherwise(pl.col("_covered")).alias("allowance_units"),
        pl.when(is_time).then(charged).otherwise(0).alias("billed_s"),
        pl.when(is_time).then(0).otherwise(charged).alias("billed_units"),
    ).drop("included", "_included", "_covered", "_split_rest", strict=False)


def _split_rest(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``_split_rest``: the amount of the charged rest of each split call the allowance
    covers in part (its first `_covered` seconds, part by part from the start), each part
    rounded half-up, the connect fee once; null for every other record. Only those few
    calls (at most one per account: the one crossing the allowance's end) are exploded."""
    seconds = pl.col("seconds")
    before = seconds.cum_sum().over("_arow") - seconds
    charged = seconds - (pl.col("_covered") - before).clip(0, seconds)
    partly = (
        pl.col("band_parts").is_not_null()
        & (pl.col("_covered") > 0)
        & (pl.col("_covered") < _billed())
    )
    keyed = frame.with_row_index("_arow")
    rest = (
        keyed.filter(partly)
        .select("_arow", "_covered", "connect_fee_micros", "band_parts")
        .explode("band_parts")
        .unnest("band_parts")
        .with_columns(charged.alias("_charged"))
        .group_by("_arow")
        .agg(
            (
                ((pl.col("_charged") * pl.col("rate_micros") * 2 + 60) // 120).sum()
                + pl.col("connect_fee_micros").first()
            ).alias("_split_rest")
        )
    )
    return keyed.join(rest, on="_arow", how="left", maintain_order="left").drop("_arow")


@dataclass(frozen=True, slots=True)
class Tier:
    """From `from_quantity` of the period's total billed quantity on, this rate applies."""

    from_quantity: int
    rate_micros: int


def apply_tiers(
    rated: pl.LazyFrame, tiers: Sequence[Tier], *, usage_type: str, set_id: str | None = None
) -> pl.LazyFrame:
    """Price `usage_type` with graduated tiers on each account's running period total; with
    `set_id`, name it in the (string) ``tier_set_id`` column of the records it prices.

    >>> from datetime import datetime, UTC
    >>> calls = pl.LazyFrame({"record_key": ["a", "b"], "account_id": ["x", "x"],
    ...     "usage_type": ["voice"] * 2,
    ...     "started_at": [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2)],
    ...     "billed_s": [600, 600], "billed_units": [0, 0], "connect_fee_micros": [0, 0],
    ...     "amount_micros": [0, 0], "rate_micros": [0, 0], "rate_id": ["r", "r"]})
    >>> tiers = [Tier(0, 60_000), Tier(900, 30_000)]   # from 15 minutes on: half price
    >>> apply_tiers(calls, tiers, usage_type="voice").select("amount_micros").collect()[
    ...     "amount_micros"].to_list()   # 10 min x 0.06; 5 min x 0.06 + 5 min x 0.03
    [600000, 450000]
    """
    ordered = sorted(tiers, key=lambda t: t.from_quantity)
    if not ordered or ordered[0].from_quantity != 0:
        raise ValueError("tiers start at quantity 0")
    billed = _billed()
    after = _running_total(billed)
    before = after - billed
    is_time = usage_type in TIME_USAGE
    weighted: pl.Expr = pl.lit(0, pl.Int64)
    for tier, upper in zip(ordered, [*(t.from_quantity for t in ordered[1:]), None], strict=True):
        top = after if upper is None else pl.min_horizontal(after, upper)
        low = pl.max_horizontal(before, tier.from_quantity)
        weighted += pl.max_horizontal(top - low, 0) * tier.rate_micros
    # rate x quantity summed over the slices, then one half-up rounding per call
    variable = (weighted * 2 + 60) // 120 if is_time else weighted
    priced = pl.when(billed > 0).then(variable + pl.col("connect_fee_micros")).otherwise(0)
    target = (pl.col("usage_type") == usage_type) & pl.col("rate_id").is_not_null()
    columns = [
        pl.when(target).then(priced).otherwise(pl.col("amount_micros")).alias("amount_micros")
    ]
    if set_id is not None:
        lineage = pl.when(target).then(pl.lit(set_id)).otherwise(pl.col("tier_set_id"))
        columns.append(lineage.alias("tier_set_id"))
    return rated.with_columns(columns)
