"""Retail prices from carrier cost by margin rules: "retail = cost + x %" (SPEC C6).

Pure (no I/O, no clock), vectorised: the rule set is small, so each record's rule is chosen
by a when/then chain over the rules (column-wise and streaming, like the rater's rounding
rules), never by a Python loop per record.

Precedence of a record's retail price: the customer's special rate, then the retail card
(both in `rater.rate`), then a margin rule on the record's **cost** amount. So a margin rule
only prices a record the retail cards left without a rate (``reject_reason`` ``no_rate``)
and that has a cost (its carrier's cost card rated it); any other record is left as it is.

Which rule: the first in priority order that matches the record (its tenant, usage type,
destination prefix and start instant inside the rule's window):

1. the **nearest** owning tenant (`depth` 0: the record's own tenant, 1: its parent, …);
2. inside one tenant, the **longest prefix** (a rule without a prefix matches every
   destination, as length 0);
3. then a rule for the record's usage type before a rule for every usage type.

The price, in integer micro-units: ``cost x (1 + percent / 100)`` rounded half-up once, then
raised to ``cost + min_margin x billed minutes (or units)`` when the rule has a minimum (that
product is rounded half-up per call too, like a rate). Percent has at most 4 decimal places,
so the factor ``1 + percent / 100`` is an exact integer of millionths (`factor_ppm`), and the
rounding is ``q x factor + (2 x r x factor + 10^6) // (2 x 10^6)`` with ``q, r = divmod(cost,
10^6)``: exact, half-up, and far from overflowing int64 (Polars itself rounds half-to-even).

A record priced by a rule keeps its cost card's billed quantity and increments (the cost it is
marked up from was billed on them) and names the rule in ``margin_rule_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import polars as pl

from billstream.rating.rater import RejectReason

__all__ = [
    "COST_QUANTITIES",
    "MARGIN_RULE_SCHEMA",
    "MAX_PERCENT",
    "MarginRule",
    "factor_ppm",
    "margin_rules_frame",
    "percent_problem",
    "prefix_problem",
    "price_by_margin",
]

MAX_PERCENT = Decimal(10_000)
PERCENT_PLACES = 4
PPM = 1_000_000
MAX_PREFIX = 15

# The cost rating's billed quantity and increments, beside its `cost_micros`: a record priced
# by margin bills what its cost billed. `price_by_margin` reads and drops them.
COST_QUANTITIES = {
    "billed_s": "cost_billed_s",
    "billed_units": "cost_billed_units",
    "first_increment_s": "cost_first_increment_s",
    "next_increment_s": "cost_next_increment_s",
}

MARGIN_RULE_SCHEMA: dict[str, pl.DataType] = {
    "rule_id": pl.String(),
    "tenant_id": pl.String(),  # the records' tenant (null: any tenant)
    "depth": pl.Int64(),  # how far up the records' tenant tree the owner is: 0 = itself
    "usage_type": pl.String(),  # null: every usage type
    "prefix": pl.String(),  # destination digits, no "+" (null: every destination)
    "valid_from": pl.Datetime("us", "UTC"),  # null: always
    "valid_to": pl.Datetime("us", "UTC"),  # null: open-ended
    "factor_ppm": pl.Int64(),  # 1 + percent / 100, in millionths
    "min_margin_micros": pl.Int64(),  # per minute (time usage) or unit; null: no minimum
}


def percent_problem(percent: Decimal) -> str | None:
    """Why `percent` cannot be a margin (None: it can).

    >>> percent_problem(Decimal("12.5")), percent_problem(Decimal(-100))
    (None, 'a margin is more than -100 and at most 10000 percent')
    """
    if not percent.is_finite() or not -100 < percent <= MAX_PERCENT:
        return "a margin is more than -100 and at most 10000 percent"
    if percent != round(percent, PERCENT_PLACES):
        return f"a margin has at most {PERCENT_PLACES} decimal places"
    return None


def prefix_problem(prefix: str) -> str | None:
    """Why `prefix` (digits, no "+") is not the start of an E.164 number (None: it is)."""
    if not (prefix.isascii() and prefix.isdigit() and 1 <= len(prefix) <= MAX_PREFIX):
        return f"{prefix!r} is not 1-15 digits of an E.164 number"
    if prefix[0] == "0":
        return f"{prefix!r} starts with 0: no E.164 number does"
    return None


def factor_ppm(percent: Decimal) -> int:
    """``1 + percent / 100`` in exact millionths.

    >>> factor_ppm(Decimal("12.5")), factor_ppm(Decimal("-0.0001"))
    (1125000, 999999)
    """
    problem = percent_problem(percent)
    if problem is not None:
        raise ValueError(problem)
    return PPM + int(percent * 10_000)


@dataclass(frozen=True, slots=True)
class MarginRule:
    """One margin rule, resolved for the records of `tenant_id` (None: any) from an owner
    `depth` tenants up their tree, in force over ``[valid_from, valid_to)`` (None: unbounded).
    """

    rule_id: str
    percent: Decimal
    usage_type: str | None = None
    prefix: str | None = None
    min_margin_micros: int | None = None
    tenant_id: str | None = None
    depth: int = 0
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def __post_init__(self) -> None:
        problem = percent_problem(self.percent)
        if problem is None and self.prefix is not None:
            problem = prefix_problem(self.prefix)
        if problem is None and self.min_margin_micros is not None and self.min_margin_micros < 0:
            problem = "a minimum margin is >= 0"
        if problem is not None:
            raise ValueError(problem)


def margin_rules_frame(rules: Sequence[MarginRule]) -> pl.DataFrame:
    """Rows of `MARGIN_RULE_SCHEMA`, in any order (`price_by_margin` orders them)."""
    return pl.DataFrame(
        [
            (
                r.rule_id,
                r.tenant_id,
                r.depth,
                r.usage_type,
                r.prefix,
                r.valid_from,
                r.valid_to,
                factor_ppm(r.percent),
                r.min_margin_micros,
            )
            for r in rules
        ],
        schema=MARGIN_RULE_SCHEMA,
        orient="row",
    )


def _in_priority_order(rules: pl.DataFrame) -> list[dict[str, object]]:
    ordered = rules.cast(MARGIN_RULE_SCHEMA).sort(  # type: ignore[arg-type]
        pl.col("tenant_id"),
        pl.col("depth"),
        pl.col("prefix").str.len_chars().fill_null(0),
        pl.col("usage_type").is_null(),
        pl.col("valid_from"),
        pl.col("rule_id"),
        descending=[False, False, True, False, False, False],
        nulls_last=True,
    )
    return ordered.rows(named=True)


FIELDS = ("rule_id", "factor_ppm", "min_margin_micros")


def _chosen_rule(rules: pl.DataFrame) -> pl.Expr:
    """Each candidate record's rule as a struct (null: none matches): a when/then chain over
    the rules, built from the last in priority order so the first that matches wins."""
    dtype = pl.Struct({f: MARGIN_RULE_SCHEMA[f] for f in FIELDS})
    chosen: pl.Expr = pl.lit(None, dtype)
    at = pl.col("started_at")
    digits = pl.col("called").str.strip_prefix("+")
    for row in reversed(_in_priority_order(rules)):
        applies: pl.Expr = pl.lit(True)
        if row["tenant_id"] is not None:
            applies &= pl.col("tenant_id") == row["tenant_id"]
        if row["usage_type"] is not None:
            applies &= pl.col("usage_type") == row["usage_type"]
        if row["prefix"] is not None:
            applies &= digits.str.starts_with(str(row["prefix"]))
        if row["valid_from"] is not None:
            applies &= at >= row["valid_from"]
        if row["valid_to"] is not None:
            applies &= at < row["valid_to"]
        value = pl.struct(pl.lit(row[f], MARGIN_RULE_SCHEMA[f]).alias(f) for f in FIELDS)
        chosen = pl.when(applies).then(value).otherwise(chosen)
    return chosen


def _marked_up(cost: pl.Expr, factor: pl.Expr) -> pl.Expr:
    """``cost x factor / 10^6`` rounded half-up, in integers (see the module docstring)."""
    return (cost // PPM) * factor + ((cost % PPM) * factor * 2 + PPM) // (2 * PPM)


def _minimum_margin(per_quantity: pl.Expr) -> pl.Expr:
    """The minimum margin of a call: per minute on its billed seconds, rounded half-up like a
    rate, plus per unit on its billed units (a record bills one of the two, the other is 0)."""
    per_minute = (per_quantity * pl.col("cost_billed_s") * 2 + 60) // 120
    return per_minute + per_quantity * pl.col("cost_billed_units")


def price_by_margin(rated: pl.LazyFrame, rules: pl.DataFrame) -> pl.LazyFrame:
    """Price the records the retail cards left unrated by the margin rule that matches them.

    Parameters
    ----------
    rated
        Rated usage with its cost: `rater.RATED_COLUMNS`, ``tenant_id``, ``usage_type``,
        ``started_at``, ``called``, ``cost_micros`` and the `COST_QUANTITIES` columns.
    rules
        Rows of `MARGIN_RULE_SCHEMA` (`margin_rules_frame`).

    Returns
    -------
    The frame with ``margin_rule_id`` added (null unless a rule priced the record) and the
    `COST_QUANTITIES` columns dropped. A record priced by a rule has its amount, billed
    quantity and increments set and its ``no_rate`` reject cleared.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> calls = pl.LazyFrame({"record_key": ["a", "b", "c"], "tenant_id": ["t"] * 3,
    ...     "usage_type": ["voice"] * 3, "started_at": [datetime(2026, 1, 5, tzinfo=UTC)] * 3,
    ...     "called": ["+447700900123", "+33123456789", "+33123456789"],
    ...     "reject_reason": [None, "no_rate", "no_rate"], "amount_micros": [130_000, 0, 0],
    ...     "billed_s": [60, 0, 0], "billed_units": [0, 0, 0],
    ...     "first_increment_s": [60, None, None], "next_increment_s": [60, None, None],
    ...     "cost_micros": [50_000, 40_001, None], "cost_billed_s": [60, 120, None],
    ...     "cost_billed_units": [0, 0, None], "cost_first_increment_s": [60, 60, None],
    ...     "cost_next_increment_s": [60, 60, None]})
    >>> rules = margin_rules_frame([MarginRule("mr1", Decimal("12.5"))])
    >>> price_by_margin(calls, rules).select("record_key", "amount_micros", "billed_s",
    ...     "margin_rule_id", "reject_reason").collect()
    shape: (3, 5)
    ┌────────────┬───────────────┬──────────┬────────────────┬───────────────┐
    │ record_key ┆ amount_micros ┆ billed_s ┆ margin_rule_id ┆ reject_reason │
    │ ---        ┆ ---           ┆ ---      ┆ ---            ┆ ---           │
    │ str        ┆ i64           ┆ i64      ┆ str            ┆ str           │
    ╞════════════╪═══════════════╪══════════╪════════════════╪═══════════════╡
    │ a          ┆ 130000        ┆ 60       ┆ null           ┆ null          │
    │ b          ┆ 45001         ┆ 120      ┆ mr1            ┆ null          │
    │ c          ┆ 0             ┆ 0        ┆ null           ┆ no_rate       │
    └────────────┴───────────────┴──────────┴────────────────┴───────────────┘
    """
    quantities = list(COST_QUANTITIES.values())
    if rules.is_empty():
        return rated.with_columns(pl.lit(None, pl.String).alias("margin_rule_id")).drop(quantities)
    candidate = (pl.col("reject_reason") == RejectReason.NO_RATE.value) & pl.col(
        "cost_micros"
    ).is_not_null()
    frame = rated.with_columns(pl.when(candidate).then(_chosen_rule(rules)).alias("_margin"))
    rule = pl.col("_margin").struct
    priced = pl.col("_margin").is_not_null()
    cost = pl.col("cost_micros").cast(pl.Int64)
    minimum = rule.field("min_margin_micros")
    marked = _marked_up(cost, rule.field("factor_ppm"))
    retail = (
        pl.when(minimum.is_null())
        .then(marked)
        .otherwise(pl.max_horizontal(marked, cost + _minimum_margin(minimum)))
    )
    taken = {column: pl.col(cost_column) for column, cost_column in COST_QUANTITIES.items()}
    return frame.with_columns(
        pl.when(priced).then(retail).otherwise(pl.col("amount_micros")).alias("amount_micros"),
        *(
            pl.when(priced).then(value).otherwise(pl.col(column)).alias(column)
            for column, value in taken.items()
        ),
        pl.when(priced).then(None).otherwise(pl.col("reject_reason")).alias("reject_reason"),
        rule.field("rule_id").alias("margin_rule_id"),
    ).drop("_margin", *quantities)
