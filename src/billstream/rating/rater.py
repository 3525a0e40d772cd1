"""The vectorised rater: accepted usage in, rated usage out, as Polars LazyFrames.

Pure (no I/O, no clock): every step is a frame operation, so a month of CDRs is rated without
a Python loop per record, and the plan streams (joins against small build sides, row-wise
expressions), so a file larger than memory rates in bounded memory.

Money is int64 micro-units (1e-6 of the currency). Polars rounds half-to-even, so the one
rounding a call gets (rate x billed seconds / 60) is done in integers, half-up:
``(2 x rate x seconds + 60) // 120``.

How a record is rated
---------------------
1. **Band**: the record's start instant in the tenant's time zone (Polars' tz database, so a
   DST change moves the local hour) gives ``weekend`` on the weekend days, else ``peak``
   inside the peak hours, else ``offpeak``.
2. **Card version**: the version in force at ``started_at`` (``valid_from <= started_at <
   valid_to``), for the customer's special-rate layer (rates with an ``account_id``) and for
   the card (rates without one).
3. **Longest prefix**: the longest prefix of the called number with a rate for the record's
   band (or for band ``all``), in the version in force. The card is matched with one sorted
   search per record over the card's prefixes flattened into disjoint segments (see
   `prefixes`), not with a join per prefix length. The customer's special-rate layer is tried
   first (a join per prefix length: special cards are small): a customer's special rate
   overrides the card whatever its length.
4. **Billed quantity**: a minimum duration lifts a non-zero duration first, then the
   increments round it: ``first`` when ``d <= first``, else ``first + ceil((d - first) /
   next) x next``. A brand's `RoundingRules` replace the card's increments when given.
   Non-time usage (sms, data…) bills its ``quantity`` through the same increments.
5. **Amount**: ``connect fee + rate x billed / 60`` (per unit: ``rate x units``), rounded
   half-up per call. A call billed 0 s costs nothing; an unanswered call (0 s) pays the
   connect fee only when the rules say attempts are charged.
6. **Band split** (only under a rule with ``split_bands``): a call crossing a band boundary
   has its billed seconds divided at each boundary, each part at the same prefix's rate for
   its band, rounded half-up per part; see `band_split` and docs/rating.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import polars as pl

from billstream.core.limits import MAX_USAGE_SECONDS, OutOfBoundsError
from billstream.rating.band_split import BAND_PARTS, same_prefix_rates, split_at_bands
from billstream.rating.bands import Band, TimeBands, band_of_wall, bands_of, wall_time
from billstream.rating.kinds import (
    RoundingMode as RoundingMode,  # defined there, for the CLI's options
)
from billstream.rating.prefixes import (
    MAX_LANES,
    SPAN,
    gather,
    lookup,
    number_code,
    prefix_codes,
    segments,
)
from billstream.rating.windows import slice_windows

__all__ = [
    "BAND_PARTS",
    "RATED_COLUMNS",
    "RATE_SCHEMA",
    "REJECT_REASON",
    "RULE_SCHEMA",
    "TIME_USAGE",
    "Band",
    "Card",
    "RejectReason",
    "RoundingMode",
    "RoundingRules",
    "TimeBands",
    "amount_expr",
    "bands_of",
    "billed_expr",
    "compile_card",
    "rate",
    "rules_frame",
]

UTC_INSTANT = pl.Datetime("us", "UTC")
TIME_USAGE = frozenset({"voice", "chat", "ivr", "video"})  # billed by duration; others by units
MAX_DIGITS = 15  # E.164

RATE_SCHEMA: dict[str, pl.DataType] = {
    "rate_id": pl.String(),
    "card_version_id": pl.String(),
    "account_id": pl.String(),  # null: the card; set: that customer's special rate
    "prefix": pl.String(),  # digits of the E.164 destination, no "+"
    "usage_type": pl.String(),
    "band": pl.String(),  # all | peak | offpeak | weekend
    "valid_from": UTC_INSTANT,
    "valid_to": UTC_INSTANT,  # null: open-ended
    "rate_micros": pl.Int64(),  # per minute for time usage, per unit otherwise
    "connect_fee_micros": pl.Int64(),
    "min_duration_s": pl.Int64(),
    "first_increment_s": pl.Int64(),
    "next_increment_s": pl.Int64(),
}
# Rounding rules in force, resolved (first matching row wins): see `rules_frame`.
RULE_SCHEMA: dict[str, pl.DataType] = {
    "rule_id": pl.String(),
    "tenant_id": pl.String(),  # null: any tenant
    "usage_type": pl.String(),  # null: every usage type
    "valid_from": UTC_INSTANT,  # null: always
    "valid_to": UTC_INSTANT,  # null: open-ended
    "free_below_s": pl.Int64(),
    "first_s": pl.Int64(),
    "next_s": pl.Int64(),
    "nearest": pl.Boolean(),
    "charge_attempts": pl.Boolean(),
    "split_bands": pl.Boolean(),
}
RATED_COLUMNS = (
    "band",
    "rate_id",
    "card_version_id",
    "matched_prefix",
    "rate_micros",
    "connect_fee_micros",
    "first_increment_s",
    "next_increment_s",
    "rounding_rule_id",
    "billed_s",
    "billed_units",
    "amount_micros",
    "reject_reason",
)


class RejectReason(StrEnum):
    NO_RATE = "no_rate"
    INVALID_NUMBER = "invalid_number"


REJECT_REASON = pl.Enum([r.value for r in RejectReason])  # the rated frame's reject_reason


@dataclass(frozen=True, slots=True)
class RoundingRules:
    """A brand's rounding of call durations, as data; it replaces the card's increments.

    Below `free_below_s` a call is free; up to `first_s` it bills `first_s`; beyond, the rest
    rounds to `next_s` (up, or to the nearest). SPEC C6's brand rule is
    ``RoundingRules(free_below_s=30, first_s=60, next_s=30)``: 25 s → 0, 45 s → 60,
    61 s → 90, 95 s → 120. `charge_attempts` makes an unanswered call (0 s) pay the connect fee.
    `split_bands` divides a call's billed seconds at the time-band boundaries it crosses, each
    part at its band's rate (see `rate`).
    """

    first_s: int
    next_s: int
    free_below_s: int = 0
    mode: RoundingMode = RoundingMode.UP
    charge_attempts: bool = False
    split_bands: bool = False

    def __post_init__(self) -> None:
        least = {"first_s": 0, "next_s": 1, "free_below_s": 0}
        for name, low in least.items():
            seconds = getattr(self, name)
            if not low <= seconds <= MAX_USAGE_SECONDS:
                raise OutOfBoundsError(
                    f"rounding takes {low} to {MAX_USAGE_SECONDS} seconds, not {seconds}",
                    field=name,
                )


def _ceil_div(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return (a + b - 1) // b


def billed_expr(
    used: pl.Expr,
    *,
    first: pl.Expr,
    next_: pl.Expr,
    minimum: pl.Expr,
    free_below: pl.Expr | None = None,
    nearest: bool | pl.Expr = False,
) -> pl.Expr:
    """Billed seconds (or units) of `used`: minimum first, then the increments.

    >>> frame = pl.DataFrame({"d": [0, 25, 30, 45, 60, 61, 95]})
    >>> spec = billed_expr(pl.col("d"), first=pl.lit(60), next_=pl.lit(30),
    ...                    minimum=pl.lit(0), free_below=pl.lit(30))
    >>> frame.select(spec).to_series().to_list()
    [0, 0, 60, 60, 60, 90, 120]
    """
    lifted = pl.max_horizontal(used, minimum)  # only read where used > 0
    beyond = lifted - first
    if isinstance(nearest, bool):
        steps = (beyond * 2 + next_) // (next_ * 2) if nearest else _ceil_div(beyond, next_)
    else:
        to_nearest = (beyond * 2 + next_) // (next_ * 2)
        steps = pl.when(nearest).then(to_nearest).otherwise(_ceil_div(beyond, next_))
    free = used <= 0 if free_below is None else (used <= 0) | (used < free_below)
    return (
        pl.when(free)
        .then(pl.lit(0, pl.Int64))
        .when(lifted <= first)
        .then(first)
        .otherwise(first + steps * next_)
    )


def amount_expr(
    billed: pl.Expr,
    *,
    rate: pl.Expr,
    fee: pl.Expr,
    per_minute: pl.Expr,
    fee_due: pl.Expr | None = None,
) -> pl.Expr:
    """Micro-units due: the connect fee (when due) plus the rate, rounded half-up per call.

    >>> frame = pl.DataFrame({"s": [1, 61, 0], "rate": [10_000, 10_000, 10_000]})
    >>> frame.select(amount_expr(pl.col("s"), rate=pl.col("rate"), fee=pl.lit(0),
    ...              per_minute=pl.lit(True), fee_due=pl.lit(False))).to_series().to_list()
    [167, 10167, 0]
    """
    minute_part = (billed * rate * 2 + 60) // 120  # half-up: rate x s / 60, s >= 0
    variable = pl.when(per_minute).then(minute_part).otherwise(billed * rate)
    charged = pl.when(billed > 0).then(variable + fee).otherwise(0)
    if fee_due is None:
        return charged.cast(pl.Int64)
    return pl.when(fee_due & (billed == 0)).then(fee).otherwise(charged).cast(pl.Int64)


def rate(
    usage: pl.LazyFrame,
    rates: pl.LazyFrame | Card,
    *,
    timezone: str = "UTC",
    bands: TimeBands | None = None,
    rules: RoundingRules | pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Rate accepted usage against a card (and the customers' special rates).

    Parameters
    ----------
    usage
        The accepted-usage frame (``record_key``, ``account_id``, ``usage_type``,
        ``started_at`` UTC, ``duration_s``, ``quantity``, ``called`` E.164, …).
    rates
        Rows of `RATE_SCHEMA`: the card's rates (``account_id`` null) and special rates; or
        the same compiled once by `compile_card`, to rate many batches against one card.
    timezone
        The tenant's time zone, for the time bands.
    rules
        The brand's rounding rules: one `RoundingRules` for every record, or rows of
        `RULE_SCHEMA` resolved per tenant, usage type and start instant (the first row that
        matches a record wins; a record no row matches keeps its rate's increments); None:
        each rate's own increments.

    Returns
    -------
    The usage with `RATED_COLUMNS` added (``rate_id``, ``card_version_id`` and
    ``matched_prefix`` as `pl.Enum` of the card's values, ``band`` as `bands.BAND` and
    ``reject_reason`` as `REJECT_REASON`: small integers, not strings). A record without a
    rate keeps nulls in the rate columns, ``amount_micros`` 0 and ``reject_reason`` ``no_rate`` (or
    ``invalid_number``). When a rule has ``split_bands``, also ``band_parts`` (`BAND_PARTS`:
    the parts of each call split at band boundaries, null for the others; see `band_split`);
    without one the column is absent and the split step is not in the plan.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> at = datetime(2026, 1, 5, 10, tzinfo=UTC)
    >>> card = pl.LazyFrame({"rate_id": ["r44", "r447"], "card_version_id": ["v1", "v1"],
    ...     "account_id": [None, None], "prefix": ["44", "447"], "usage_type": ["voice"] * 2,
    ...     "band": ["all", "all"], "valid_from": [datetime(2026, 1, 1, tzinfo=UTC)] * 2,
    ...     "valid_to": [None, None], "rate_micros": [10_000, 150_000],
    ...     "connect_fee_micros": [0, 5_000], "min_duration_s": [0, 0],
    ...     "first_increment_s": [60, 30], "next_increment_s": [60, 6]}, schema=RATE_SCHEMA)
    >>> calls = pl.LazyFrame({"record_key": ["a", "b"], "account_id": ["acc", "acc"],
    ...     "usage_type": ["voice", "voice"], "started_at": [at, at], "duration_s": [61, 61],
    ...     "quantity": [0, 0], "called": ["+442071234567", "+447700900123"]})
    >>> rate(calls, card).select("record_key", "matched_prefix", "billed_s",
    ...                          "amount_micros").collect()
    shape: (2, 4)
    ┌────────────┬────────────────┬──────────┬───────────────┐
    │ record_key ┆ matched_prefix ┆ billed_s ┆ amount_micros │
    │ ---        ┆ ---            ┆ ---      ┆ ---           │
    │ str        ┆ enum           ┆ i64      ┆ i64           │
    ╞════════════╪════════════════╪══════════╪═══════════════╡
    │ a          ┆ 44             ┆ 120      ┆ 20000         │
    │ b          ┆ 447            ┆ 66       ┆ 170000        │
    └────────────┴────────────────┴──────────┴───────────────┘
    """
    compiled = rates if isinstance(rates, Card) else compile_card(rates)
    card = compiled.rates
    frame = _prepared(usage, timezone=timezone, bands=bands or TimeBands())
    frame = _versions(frame, card)
    frame = frame.with_columns(pl.lit(None, pl.Int64).alias("_rid"))
    special = card.filter(pl.col("account_id").is_not_null())
    for length in sorted(set(special["prefix"].str.len_chars().to_list()), reverse=True):
        frame = _match_length(frame, special, layer="_special_v", length=length)
    frame = _match_card(frame, compiled)
    frame = frame.with_columns(gather(pl.col("_rid"), compiled.attributes))
    if isinstance(rules, RoundingRules):
        rules = rules_frame([(None, None, None, None, rules)])
    if rules is not None:
        frame = _ruled_increments(frame.with_columns(_rule_columns(rules)))
    else:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("rounding_rule_id"))
    frame = _priced(frame, ruled=rules is not None)
    if rules is not None and bool(rules["split_bands"].any()):
        frame = split_at_bands(
            frame, compiled.same_prefix, timezone=timezone, bands=bands or TimeBands()
        )
    return frame.drop(
        "_num",
        "_n",
        "_wall",
        "_special_v",
        "_card_v",
        "_rid",
        "_time",
        "_min",
        "_rule",
        strict=False,
    )


@dataclass(frozen=True)
class Card:
    """A rates frame prepared for `rate`: what depends on the card alone, done once.

    `rate_period` rates a period in batches; cutting a card into windows and flattening it
    into search segments grows with its prefixes, so it is done once per run, not per
    batch."""

    rates: pl.DataFrame  # cut into windows (see `windows`), each row numbered `_rid`
    attributes: pl.DataFrame  # a matched rate's columns, row `_rid` (see `_attributes`)
    search: _Search | None  # None: no card rates, or too many lanes (joins per length)

    @cached_property
    def same_prefix(self) -> pl.DataFrame:
        """Each rate's same-prefix rate per band, for splitting calls (`band_split`): built
        the first time a splitting rule needs it. Its joins on the card's string keys take
        memory in proportion to the card (docs/performance.md), which a process rating
        without the rule (most do) would keep for nothing: the allocator's per-thread arenas
        hold on to it."""
        return same_prefix_rates(self.rates)


@dataclass(frozen=True, slots=True)
class _Search:
    """The card's rates (not the special rates) as one sorted array of segment starts.

    A lane is a (card version, usage type): its segments are owned by the longest prefix of
    the lane that has a rate in any band. A prefix's rate for a record's band is then its own
    (its band's, else its all-band rate), else its nearest shorter prefix's in the lane
    (`resolved`, one row per prefix and band): the longest prefix with a rate for the band,
    as if each band had a lane of its own, for a third of the segments to search."""

    versions: list[int]
    types: list[str]
    starts: pl.Series  # segment starts of every lane, sorted
    owners: pl.Series  # each segment's prefix, an index into `resolved` / bands (-1: none)
    resolved: pl.Series  # rate `_rid` of prefix i for band b at i x 3 + b (null: none)


def compile_card(rates: pl.LazyFrame | pl.DataFrame) -> Card:
    """Prepare rows of `RATE_SCHEMA` for `rate`."""
    frame = rates.collect() if isinstance(rates, pl.LazyFrame) else rates
    card = slice_windows(frame.cast(RATE_SCHEMA))  # type: ignore[arg-type]
    card = card.with_row_index("_rid").with_columns(pl.col("_rid").cast(pl.Int64))
    return Card(
        rates=card,
        attributes=_attributes(card),
        search=_search(card.filter(pl.col("account_id").is_null())),
    )


def rules_frame(
    rows: Sequence[tuple[str | None, str | None, object, object, RoundingRules]],
    *,
    rule_ids: Sequence[str | None] | None = None,
) -> pl.DataFrame:
    """Rows of `RULE_SCHEMA` from ``(tenant_id, usage_type, valid_from, valid_to, rules)``,
    in priority order (the first that matches a record wins)."""
    ids = list(rule_ids) if rule_ids is not None else [None] * len(rows)
    return pl.DataFrame(
        [
            (
                rule_id,
                tenant,
                usage,
                start,
                end,
                r.free_below_s,
                r.first_s,
                r.next_s,
                r.mode is RoundingMode.NEAREST,
                r.charge_attempts,
                r.split_bands,
            )
            for rule_id, (tenant, usage, start, end, r) in zip(ids, rows, strict=True)
        ],
        schema=RULE_SCHEMA,
        orient="row",
    )


def _rule_columns(rules: pl.DataFrame | None) -> pl.Expr:
    """Each record's rounding rule as a struct (null: none applies), by a when/then chain over
    the few rule rows: column-wise over the frame and streaming, like the card versions (a
    join would need an interval condition, and a join-then-filter multiplies the rows)."""
    fields = (
        "rule_id", "free_below_s", "first_s", "next_s", "nearest", "charge_attempts", "split_bands",
    )  # fmt: skip
    chosen: pl.Expr = pl.lit(None, pl.Struct({f: RULE_SCHEMA[f] for f in fields}))
    if rules is None:
        return chosen.alias("_rule")
    at = pl.col("started_at")
    for row in reversed(rules.cast(RULE_SCHEMA).rows(named=True)):  # type: ignore[arg-type]
        applies: pl.Expr = pl.lit(True)
        if row["tenant_id"] is not None:
            applies &= pl.col("tenant_id") == row["tenant_id"]
        if row["usage_type"] is not None:
            applies &= pl.col("usage_type") == row["usage_type"]
        if row["valid_from"] is not None:
            applies &= at >= row["valid_from"]
        if row["valid_to"] is not None:
            applies &= at < row["valid_to"]
        value = pl.struct(pl.lit(row[f], RULE_SCHEMA[f]).alias(f) for f in fields)
        chosen = pl.when(applies).then(value).otherwise(chosen)
    return chosen.alias("_rule")


def _prepared(usage: pl.LazyFrame, *, timezone: str, bands: TimeBands) -> pl.LazyFrame:
    """The record's band and local start (`_wall`, naive; the band split reads it too), and
    its called number as digits (`_num`) and their count (`_n`), both null when the number
    is not 1-15 digits. In two steps: an expression used twice within one step is evaluated
    twice (the time-zone conversion, the digits' parsing)."""
    digits = pl.col("called").str.strip_prefix("+")
    length = pl.col("_n")
    number = pl.col("_num")
    # 1-15 plain digits, no leading zero: then (and only then) the integer has exactly
    # `length` digits; a sign, a space or a leading zero makes it shorter (no regex per row)
    lowest = pl.lit(10, pl.Int64).pow((length - 1).clip(0, MAX_DIGITS - 1))
    valid = (length <= MAX_DIGITS) & (number >= lowest)
    return usage.with_columns(
        wall_time(pl.col("started_at"), timezone).alias("_wall"),
        digits.cast(pl.Int64, strict=False).alias("_num"),
        digits.str.len_bytes().cast(pl.Int64).alias("_n"),
    ).with_columns(
        band_of_wall(pl.col("_wall"), bands),
        pl.when(valid).then(number).alias("_num"),
        pl.when(valid).then(length).alias("_n"),
    )


def _versions(frame: pl.LazyFrame, card: pl.DataFrame) -> pl.LazyFrame:
    """Each record's card version and special-rate version in force, as small integers."""
    versions = (
        card.group_by("card_version_id", "account_id", "valid_from", maintain_order=True)
        .agg(pl.col("valid_to").first(), pl.col("_rid").min())
        .with_columns(pl.col("_rid").alias("_v"))
    )
    at = pl.col("started_at")
    card_v: pl.Expr = pl.lit(None, pl.Int64)
    for row in versions.filter(pl.col("account_id").is_null()).iter_rows(named=True):
        in_force = at >= row["valid_from"]
        if row["valid_to"] is not None:
            in_force &= at < row["valid_to"]
        card_v = pl.when(in_force).then(pl.lit(row["_v"], pl.Int64)).otherwise(card_v)
    frame = frame.with_columns(card_v.alias("_card_v"))
    special = versions.filter(pl.col("account_id").is_not_null())
    if special.is_empty():
        return frame.with_columns(pl.lit(None, pl.Int64).alias("_special_v"))
    # Few versions per customer: join them all, keep the one in force, at most one per record.
    keyed = frame.with_row_index("_row")
    in_force = (
        keyed.select("_row", "account_id", "started_at")
        .join(special.lazy().select("account_id", "_v", "valid_from", "valid_to"), on="account_id")
        .filter(
            (at >= pl.col("valid_from"))
            & (pl.col("valid_to").is_null() | (at < pl.col("valid_to")))
        )
        .group_by("_row")
        .agg(pl.col("_v").max().alias("_special_v"))
    )
    return keyed.join(in_force, on="_row", how="left", maintain_order="left").drop("_row")


def _match_length(
    frame: pl.LazyFrame, layer_rates: pl.DataFrame, *, layer: str, length: int
) -> pl.LazyFrame:
    """Fill `_rid` for records still unrated whose first `length` digits are a prefix here."""
    table = (
        layer_rates.filter(pl.col("prefix").str.len_chars() == length)
        .join(
            layer_rates.group_by("card_version_id", "account_id", "valid_from").agg(
                pl.col("_rid").min().alias("_v")
            ),
            on=["card_version_id", "account_id", "valid_from"],
            how="left",
            nulls_equal=True,
        )
        .select(
            pl.col("_v").alias(layer),
            pl.col("prefix").cast(pl.Int64).alias("_p"),
            "usage_type",
            "band",
            "_rid",
        )
        .pivot("band", index=[layer, "_p", "usage_type"], values="_rid", aggregate_function="min")
    )
    for band in Band:
        if band.value not in table.columns:
            table = table.with_columns(pl.lit(None, pl.Int64).alias(band.value))
    table = table.rename({b.value: f"_r_{b.value}" for b in Band})
    # `when` evaluates its branch on every row: a number shorter than `length` must not raise
    scale = pl.lit(10, pl.Int64).pow((pl.col("_n") - length).clip(0))
    key = pl.when(pl.col("_rid").is_null() & (pl.col("_n") >= length)).then(pl.col("_num") // scale)
    by_band = pl.coalesce(
        pl.when(pl.col("band") == b.value).then(pl.col(f"_r_{b.value}"))
        for b in (Band.PEAK, Band.OFFPEAK, Band.WEEKEND)
    )
    return (
        frame.with_columns(key.alias("_p"))
        .join(table.lazy(), on=[layer, "_p", "usage_type"], how="left", maintain_order="left")
        .with_columns(pl.coalesce("_rid", by_band, "_r_all").alias("_rid"))
        .drop("_p", *(f"_r_{b.value}" for b in Band))
    )


LANE_BANDS = (Band.PEAK, Band.OFFPEAK, Band.WEEKEND)


def _search(card: pl.DataFrame) -> _Search | None:
    """The card's search segments (None: an empty card, or more lanes than fit int64)."""
    if card.is_empty():
        return None
    # a version's time slices (see `windows`) are versions here
    by_version = (
        card.group_by("card_version_id", "valid_from")
        .agg(pl.col("_rid").min().alias("_v"))
        .sort("_v")
    )
    versions = by_version["_v"].to_list()
    types = sorted(set(card["usage_type"].to_list()))
    if len(versions) * len(types) > MAX_LANES:
        return None
    keyed = card.join(by_version, on=["card_version_id", "valid_from"])
    codes = prefix_codes(card["prefix"])
    starts: list[int] = []
    owners: list[int] = []
    resolved: list[int | None] = []
    lane = 0
    for version in versions:
        for usage_type in types:
            rows = keyed.filter((pl.col("_v") == version) & (pl.col("usage_type") == usage_type))
            own = [dict(_lane_rates(rows, band)) for band in LANE_BANDS]
            index: dict[str, int] = {}
            for prefix in sorted(set(rows["prefix"].to_list()), key=lambda p: (len(p), p)):
                parent = _parent(prefix, index)
                index[prefix] = len(resolved) // len(LANE_BANDS)
                for b, rates in enumerate(own):
                    inherited = None if parent is None else resolved[parent * len(LANE_BANDS) + b]
                    resolved.append(rates.get(prefix, inherited))
            for start, owner in segments(index.items(), lane=lane, codes=codes):
                starts.append(start)
                owners.append(owner)
            lane += 1
    return _Search(
        versions=versions,
        types=types,
        starts=pl.Series(starts, dtype=pl.Int64),
        owners=pl.Series(owners, dtype=pl.Int64),
        resolved=pl.Series(resolved, dtype=pl.Int64),
    )


def _parent(prefix: str, index: dict[str, int]) -> int | None:
    """The index of the longest proper prefix of `prefix` in `index` (None: none)."""
    for length in range(len(prefix) - 1, 0, -1):
        if prefix[:length] in index:
            return index[prefix[:length]]
    return None


def _match_card(frame: pl.LazyFrame, card: Card) -> pl.LazyFrame:
    """Fill `_rid` from the card for records still unrated: one sorted search per record over
    every lane (card version, usage type) of the card, then the prefix's rate for the
    record's band; see `_Search` and `prefixes`."""
    search = card.search
    if search is None:
        rates = card.rates.filter(pl.col("account_id").is_null())
        for length in sorted(set(rates["prefix"].str.len_chars().to_list()), reverse=True):
            frame = _match_length(frame, rates, layer="_card_v", length=length)
        return frame
    lane = _position(pl.col("_card_v"), search.versions) * len(search.types) + _position(
        pl.col("usage_type"), search.types
    )
    key = lane.cast(pl.Int64) * SPAN + number_code(pl.col("_num"), pl.col("_n"))
    owner = lookup(key, search.starts, search.owners)
    band = _position(pl.col("band"), [b.value for b in LANE_BANDS])
    found = pl.lit(search.resolved).gather(owner * len(LANE_BANDS) + band)
    return frame.with_columns(pl.coalesce("_rid", found).alias("_rid"))


def _position(value: pl.Expr, among: Sequence[object]) -> pl.Expr:
    """The index of `value` in `among` (null when absent), as a when/then chain: the few
    versions, usage types and bands of a card (`replace_strict` would stop the plan from
    streaming)."""
    position: pl.Expr = pl.lit(None, pl.Int64)
    for index, candidate in reversed(list(enumerate(among))):
        position = pl.when(value == candidate).then(pl.lit(index, pl.Int64)).otherwise(position)
    return position


def _lane_rates(rows: pl.DataFrame, band: Band) -> list[tuple[str, int]]:
    """Each prefix's rate for `band`: its own band's rate, else its all-band rate."""
    ranked = rows.filter(pl.col("band").is_in([band.value, Band.ALL.value])).sort(
        pl.col("band") == Band.ALL.value, "_rid"
    )
    first = ranked.group_by("prefix", maintain_order=True).agg(pl.col("_rid").first())
    return list(first.iter_rows())


def _attributes(card: pl.DataFrame) -> pl.DataFrame:
    """The matched rate's columns, gathered by its row number in the card (no join: a join
    would scatter and re-gather every column the frame carries). The card's strings come out
    as `pl.Enum` of the card's values: a gather of small integers, not a copy of three strings
    per record, and dictionary-encoded in Parquet."""
    return card.select(
        *(
            pl.col(column).cast(pl.Enum(card[column].unique(maintain_order=True))).alias(alias)
            for column, alias in (
                ("rate_id", "rate_id"),
                ("card_version_id", "card_version_id"),
                ("prefix", "matched_prefix"),
            )
        ),
        "rate_micros",
        "connect_fee_micros",
        pl.col("min_duration_s").alias("_min"),
        "first_increment_s",
        "next_increment_s",
    )


def _ruled_increments(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The increments of each rated record's rounding rule (`_rule`, null: the card's) in
    its increment columns: the lineage shows the increments actually used."""
    rule = pl.col("_rule").struct
    ruled = pl.col("_rule").is_not_null()
    rated = pl.col("_rid").is_not_null()
    return frame.with_columns(
        *(
            pl.when(rated & ruled)
            .then(rule.field(f"{part}_s"))
            .otherwise(pl.col(f"{part}_increment_s"))
            .alias(f"{part}_increment_s")
            for part in ("first", "next")
        ),
        pl.when(rated).then(rule.field("rule_id")).alias("rounding_rule_id"),
    )


def _priced(frame: pl.LazyFrame, *, ruled: bool) -> pl.LazyFrame:
    """Billed quantity and amount of each record. An unrated record has null increments and
    rate, so its billed quantity and amount come out null, then 0. Without rounding rules
    (`ruled` false) the card's increments apply as they are: no rule is read per record.

    In steps, each reading the columns the one before wrote: an expression used twice in one
    step is evaluated twice (the billed quantity goes into both `billed_s` and
    `billed_units`, and into every term of the amount)."""
    is_time = pl.col("_time")
    free_below: pl.Expr | None = None
    nearest: bool | pl.Expr = False
    fee_due: pl.Expr | None = None
    if ruled:
        rule = pl.col("_rule").struct
        has_rule = pl.col("_rule").is_not_null()
        free_below = pl.when(has_rule).then(rule.field("free_below_s")).otherwise(0)
        nearest = has_rule & rule.field("nearest")
        fee_due = has_rule & rule.field("charge_attempts") & is_time & (pl.col("duration_s") == 0)
    billed = billed_expr(
        pl.col("_used"),
        first=pl.col("first_increment_s"),
        next_=pl.col("next_increment_s"),
        minimum=pl.col("_least"),
        free_below=free_below,
        nearest=nearest,
    ).fill_null(0)
    amount = amount_expr(
        pl.col("_billed"),
        rate=pl.col("rate_micros"),
        fee=pl.col("connect_fee_micros"),
        per_minute=is_time,
        fee_due=fee_due,
    )
    return (
        frame.with_columns(pl.col("usage_type").is_in(sorted(TIME_USAGE)).alias("_time"))
        .with_columns(
            pl.when(is_time)
            .then(pl.col("duration_s"))
            .otherwise(pl.col("quantity"))
            .alias("_used"),
            pl.when(is_time).then(pl.col("_min")).otherwise(0).alias("_least"),
        )
        .with_columns(billed.cast(pl.Int64).alias("_billed"))
        .with_columns(
            pl.when(is_time).then(pl.col("_billed")).otherwise(0).alias("billed_s"),
            pl.when(is_time).then(0).otherwise(pl.col("_billed")).alias("billed_units"),
            amount.fill_null(0).alias("amount_micros"),
            pl.when(pl.col("_num").is_null())
            .then(pl.lit(RejectReason.INVALID_NUMBER.value, REJECT_REASON))
            .when(pl.col("_rid").is_null())
            .then(pl.lit(RejectReason.NO_RATE.value, REJECT_REASON))
            .alias("reject_reason"),
        )
        .drop("_used", "_least", "_billed")
    )


def rates_frame(rows: Sequence[dict[str, object]]) -> pl.LazyFrame:
    """A rates frame from plain rows (tests, small cards), with the schema's types."""
    return pl.LazyFrame(list(rows), schema=RATE_SCHEMA)
