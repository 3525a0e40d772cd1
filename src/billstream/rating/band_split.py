"""Splitting rated calls at time-band boundaries: a brand's rounding rule with ``split_bands``.

Pure, over the rater's frame (see `rater.rate`, which calls `split_at_bands` only when some
rule splits, so rating without it does no extra work at all).

What a split is
---------------
The call's billed seconds are computed once over the whole call (minimum, increments or the
brand's rounding), then laid out from its start, one billed second after another: second
``k`` is charged at the band in force at ``started_at + k``, but never later than the call's
last instant. So a band boundary counts only when it falls strictly inside the call
(``started_at < boundary < started_at + duration``: a call ending exactly at a boundary is not
split), and the seconds the rounding adds beyond the call's end belong to the band the call
ended in. A call crossing several boundaries (a long call, or a Friday evening one running
into the weekend) has one part per band it went through, in time order.

Each part is priced at the **same prefix's** rate for its band in the matched rate's card
version (its own band's rate, else its ``all``-band rate; a special-rate match stays in the
customer's special rates), rounded half-up per part; the connect fee is charged once, with the
first part. A call is left whole, at its start band, when a band it crosses has no rate for
the prefix, or when every part comes out at the same rate (an ``all``-band rate): a split
would change nothing but the rounding.

How it stays cheap
------------------
One cheap test per eligible call (time usage, rated, billed, under a splitting rule): the
first candidate boundary after its local start (midnight, peak start, peak end) is after its
local end, and its UTC offset did not change, then it crosses nothing. Only the calls left
are exploded: into their candidate boundaries (three a local day: a call of a few hours
explodes to a few rows), or, for the rare call spanning a DST change, into its whole UTC
minutes (bands are whole local minutes and UTC offsets whole minutes, so the band can only
change there). The parts are priced and aggregated back to one row per call: the frame keeps
one row per record, with the parts in ``band_parts`` (`BAND_PARTS`).

The explode, price and aggregate steps run per batch of the stream, on that batch's crossing
calls only, in a batch function: as a plan of their own joined back to the frame, they would
give the frame two consumers, and the streaming engine would evaluate the whole rating plan
upstream of it twice (and hold the frame in memory for the join).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import partial

import polars as pl

from billstream.rating.bands import BAND, Band, TimeBands, band_of_wall, bands_of, wall_time

__all__ = ["BAND_PARTS", "lineage_columns", "same_prefix_rates", "split_at_bands"]

# Lineage of a call split at band boundaries (only when a rule splits; null: not split): one
# struct per part in time order, the first part in the record's own band.
BAND_PARTS = pl.List(
    pl.Struct(
        {
            "band": pl.String(),
            "seconds": pl.Int64(),
            "rate_id": pl.String(),
            "rate_micros": pl.Int64(),
        }
    )
)
SPLIT = pl.Struct({"_split_amount": pl.Int64(), "band_parts": BAND_PARTS})
# what the batch function reads of each call
CALL_COLUMNS = (
    "_cross", "started_at", "_last", "_wall_s", "_wall_l", "_shift_s", "_shift_l", "band",
    "billed_s", "_rid", "connect_fee_micros",
)  # fmt: skip

LANE_BANDS = (Band.PEAK, Band.OFFPEAK, Band.WEEKEND)
# the columns naming a rate's slice of its card version (see `windows`), and its destination
SAME_PREFIX = ["card_version_id", "account_id", "valid_from", "prefix", "usage_type"]
MICROS = 1_000_000


def split_at_bands(
    frame: pl.LazyFrame, rates: pl.DataFrame, *, timezone: str, bands: TimeBands
) -> pl.LazyFrame:
    """`frame` (the rater's, priced, with each record's local start `_wall`) with
    ``band_parts`` added and ``amount_micros`` re-priced for the calls split at band
    boundaries; `rates` is `same_prefix_rates` of the rater's card."""
    start = pl.col("started_at")
    last = start + pl.duration(seconds=pl.col("duration_s")) - pl.duration(microseconds=1)
    rule = pl.col("_rule").struct
    eligible = (
        pl.col("_rule").is_not_null()
        & rule.field("split_bands")
        & pl.col("_time")
        & pl.col("_rid").is_not_null()
        & (pl.col("duration_s") > 0)
        & (pl.col("billed_s") > 0)
    )
    cuts = _wall_cuts(bands)
    crossing = eligible & (
        (_next_cut(pl.col("_wall_s"), cuts) <= pl.col("_wall_l"))
        | (pl.col("_shift_s") != pl.col("_shift_l"))
    )
    split = partial(_split_batch, rates=rates, cuts=cuts, timezone=timezone, bands=bands)
    temporaries = ("_last", "_wall_s", "_wall_l", "_shift_s", "_shift_l", "_cross", "_split")
    return (
        frame.with_columns(last.alias("_last"), pl.col("_wall").alias("_wall_s"))
        .with_columns(wall_time(pl.col("_last"), timezone).alias("_wall_l"))
        .with_columns(
            (pl.col("_wall_s") - start.dt.replace_time_zone(None)).alias("_shift_s"),
            (pl.col("_wall_l") - pl.col("_last").dt.replace_time_zone(None)).alias("_shift_l"),
        )
        .with_columns(crossing.alias("_cross"))
        .with_columns(
            pl.struct(CALL_COLUMNS)
            .map_batches(split, return_dtype=SPLIT, is_elementwise=True)
            .alias("_split")
        )
        .with_columns(
            pl.coalesce(pl.col("_split").struct.field("_split_amount"), "amount_micros").alias(
                "amount_micros"
            ),
            pl.col("_split").struct.field("band_parts"),
        )
        .drop(temporaries)
    )


def _split_batch(
    batch: pl.Series, *, rates: pl.DataFrame, cuts: list[timedelta], timezone: str,
    bands: TimeBands,
) -> pl.Series:  # fmt: skip
    """One batch's split amounts and parts (`SPLIT`, null for a call not split), in order:
    its crossing calls exploded into their candidate boundaries, priced and aggregated."""
    found = batch.struct.unnest().with_row_index("_row").filter(pl.col("_cross"))
    if found.is_empty():
        return pl.repeat(None, batch.len(), dtype=SPLIT, eager=True)
    calls = found.lazy()
    steady = pl.col("_shift_s") == pl.col("_shift_l")
    changes = pl.concat(
        [
            calls.select("_row", pl.col("started_at").alias("_at"), "band"),
            _wall_boundaries(calls.filter(steady), cuts, bands),
            _minute_boundaries(calls.filter(~steady), timezone, bands),
        ]
    ).sort("_row", "_at")
    runs = changes.filter(pl.col("band").ne_missing(pl.col("band").shift(1).over("_row")))
    split = _priced_parts(
        runs.join(
            calls.select("_row", "started_at", "billed_s", "_rid", "connect_fee_micros"),
            on="_row",
            maintain_order="left",
        ),
        rates,
    ).collect()
    rows = pl.DataFrame({"_row": pl.int_range(batch.len(), dtype=pl.UInt32, eager=True)})
    return (
        rows.join(split, on="_row", how="left", maintain_order="left")
        .select(pl.struct("_split_amount", "band_parts").alias("_split"))
        .to_series()
    )


def _wall_cuts(bands: TimeBands) -> list[timedelta]:
    """The times of day at which the band may change: midnight, the peak's start and end."""
    return sorted(
        {timedelta(0)}
        | {timedelta(hours=t.hour, minutes=t.minute) for t in (bands.peak_from, bands.peak_to)}
    )


def _next_cut(wall: pl.Expr, cuts: list[timedelta]) -> pl.Expr:
    """The first candidate boundary strictly after each local wall time."""
    day = wall.dt.truncate("1d")
    chosen: pl.Expr = day + timedelta(days=1)
    for cut in reversed(cuts):
        chosen = pl.when(day + cut > wall).then(day + cut).otherwise(chosen)
    return chosen


def _wall_boundaries(calls: pl.LazyFrame, cuts: list[timedelta], bands: TimeBands) -> pl.LazyFrame:
    """Candidate boundaries of calls with one UTC offset throughout: each local day's cuts
    inside the call, back to UTC by that offset, with the band from the wall time."""
    days = (pl.col("_wall_l").dt.date() - pl.col("_wall_s").dt.date()).dt.total_days()
    day = pl.col("_wall_s").dt.truncate("1d") + pl.duration(days=pl.col("_d"))
    wall = pl.col("_w")
    return (
        calls.with_columns(pl.int_ranges(0, days + 1).alias("_d"))
        .explode("_d")
        .with_columns(pl.concat_list([day + cut for cut in cuts]).alias("_w"))
        .explode("_w")
        .filter((wall > pl.col("_wall_s")) & (wall <= pl.col("_wall_l")))
        .select(
            "_row",
            (wall - pl.col("_shift_s")).dt.replace_time_zone("UTC").alias("_at"),
            band_of_wall(wall, bands),
        )
    )


def _minute_boundaries(calls: pl.LazyFrame, timezone: str, bands: TimeBands) -> pl.LazyFrame:
    """Candidate boundaries of calls spanning a UTC offset change: every whole UTC minute
    inside the call, with its band."""
    first = pl.col("started_at").dt.truncate("1m") + timedelta(minutes=1)
    minutes = (pl.col("_last") - first).dt.total_minutes()
    at = first + pl.duration(minutes=pl.col("_m"))
    return (
        calls.with_columns(pl.int_ranges(0, minutes.clip(-1) + 1).alias("_m"))
        .explode("_m")
        .filter(pl.col("_m").is_not_null() & (at <= pl.col("_last")))
        .select("_row", at.alias("_at"), bands_of(at, timezone=timezone, bands=bands))
    )


def same_prefix_rates(card: pl.DataFrame) -> pl.DataFrame:
    """For each rate of the card (``_rid``) and each band, the rate of the same prefix in the
    same slice of the same card version for that band: its own band's, else its all-band
    rate (the earliest in the card, as the rater matches). Computed once per card (see
    `rater.compile_card`).

    Dense, for a gather (a join would hash the whole table for every batch): row
    ``_rid x 3 + b`` for band ``b`` of `LANE_BANDS`, nulls where the prefix has no rate."""
    keys = card.select(*SAME_PREFIX, "_rid")
    per_band = []
    for band in LANE_BANDS:
        ranked = card.filter(pl.col("band").is_in([band.value, Band.ALL.value])).sort(
            pl.col("band") == Band.ALL.value, "_rid"
        )
        best = ranked.group_by(SAME_PREFIX, maintain_order=True).agg(
            pl.col("_rid").first().alias("_alt"),
            pl.col("rate_id").first().alias("_alt_rate_id"),
            pl.col("rate_micros").first().alias("_alt_rate"),
        )
        per_band.append(best.with_columns(pl.lit(band.value, BAND).alias("band")))
    found = keys.join(pl.concat(per_band), on=SAME_PREFIX, nulls_equal=True)
    every = card.select("_rid").join(
        pl.DataFrame({"band": [b.value for b in LANE_BANDS]}, schema={"band": BAND}), how="cross"
    )
    return (
        every.join(found, on=["_rid", "band"], how="left")
        .sort("_rid", _lane_band(pl.col("band")))
        .select("_alt", "_alt_rate_id", "_alt_rate")
    )


def _lane_band(band: pl.Expr) -> pl.Expr:
    """The index in `LANE_BANDS` of a record's band (`BAND`'s order, less ``all``)."""
    return band.to_physical().cast(pl.Int64) - 1


def _priced_parts(runs: pl.LazyFrame, rates: pl.DataFrame) -> pl.LazyFrame:
    """One row per split call: its amount (parts rounded half-up each, the fee once) and its
    parts, for the calls whose parts all have a rate and not all the same one."""
    elapsed = (pl.col("_at") - pl.col("started_at")).dt.total_microseconds()
    cut = pl.min_horizontal((elapsed + MICROS - 1) // MICROS, pl.col("billed_s"))
    seconds = pl.col("_cut").shift(-1).over("_row").fill_null(pl.col("billed_s")) - pl.col("_cut")
    part = (pl.col("seconds") * pl.col("_alt_rate") * 2 + 60) // 120
    return (
        runs.with_columns(cut.alias("_cut"))
        .with_columns(seconds.alias("seconds"))
        .filter(pl.col("seconds") > 0)
        .with_columns(
            pl.lit(rates[c]).gather(pl.col("_rid") * len(LANE_BANDS) + _lane_band(pl.col("band")))
            for c in rates.columns
        )
        .group_by("_row")
        .agg(
            ((pl.col("_alt").null_count() == 0) & (pl.col("_alt").n_unique() > 1)).alias("_ok"),
            (part.sum() + pl.col("connect_fee_micros").first()).alias("_split_amount"),
            pl.struct(
                pl.col("band").cast(pl.String),
                "seconds",
                pl.col("_alt_rate_id").alias("rate_id"),
                pl.col("_alt_rate").alias("rate_micros"),
            ).alias("band_parts"),
        )
        .filter(pl.col("_ok"))
        .select("_row", pl.col("_split_amount").cast(pl.Int64), "band_parts")
    )


def lineage_columns(columns: Sequence[str]) -> list[pl.Expr]:
    """The stored lineage of a rated frame's ``band_parts`` (absent: no rule splits): the
    billed seconds outside the start band (``split_s``, 0 when not split) and the parts as
    text, ``band:seconds:rate_id`` joined by ``;`` (``band_split``, null when not split).

    >>> parts = [{"band": "peak", "seconds": 60, "rate_id": "r1", "rate_micros": 1},
    ...          {"band": "offpeak", "seconds": 120, "rate_id": "r2", "rate_micros": 1}]
    >>> frame = pl.DataFrame({"band_parts": [parts, None]})
    >>> frame.select(lineage_columns(frame.columns)).rows()
    [(120, 'peak:60:r1;offpeak:120:r2'), (0, None)]
    """
    if "band_parts" not in columns:
        return [pl.lit(0, pl.Int64).alias("split_s"), pl.lit(None, pl.String).alias("band_split")]
    parts = pl.col("band_parts")
    text = parts.list.eval(
        pl.concat_str(
            pl.element().struct.field("band"),
            pl.element().struct.field("seconds").cast(pl.String),
            pl.element().struct.field("rate_id"),
            separator=":",
        )
    ).list.join(";")
    later = parts.list.eval(pl.element().struct.field("seconds")).list.slice(1).list.sum()
    return [later.fill_null(0).cast(pl.Int64).alias("split_s"), text.alias("band_split")]
