"""Margin rules: retail = cost + x %, half-up to the micro-unit, a minimum margin, and which
rule wins (nearest tenant, longest prefix, usage type), never over a card's rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.rating.margin_pricing import (
    COST_QUANTITIES,
    MarginRule,
    factor_ppm,
    margin_rules_frame,
    percent_problem,
    price_by_margin,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
DAY = datetime(2026, 1, 10, 12, tzinfo=UTC)


def a_record(key: str = "c1", **fields: Any) -> dict[str, Any]:
    """A call the retail cards left unrated, with a cost of 0.02 for 60 s."""
    row: dict[str, Any] = {
        "record_key": key,
        "tenant_id": "brand",
        "usage_type": "voice",
        "started_at": DAY,
        "called": "+442071234567",
        "reject_reason": "no_rate",
        "rate_id": None,
        "amount_micros": 0,
        "billed_s": 0,
        "billed_units": 0,
        "first_increment_s": None,
        "next_increment_s": None,
        "cost_micros": 20_000,
        "cost_billed_s": 60,
        "cost_billed_units": 0,
        "cost_first_increment_s": 60,
        "cost_next_increment_s": 60,
    }
    row.update(fields)
    return row


SCHEMA: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "tenant_id": pl.String(),
    "usage_type": pl.String(),
    "started_at": pl.Datetime("us", "UTC"),
    "called": pl.String(),
    "reject_reason": pl.String(),
    "rate_id": pl.String(),
    "amount_micros": pl.Int64(),
    "billed_s": pl.Int64(),
    "billed_units": pl.Int64(),
    "first_increment_s": pl.Int64(),
    "next_increment_s": pl.Int64(),
    "cost_micros": pl.Int64(),
    "cost_billed_s": pl.Int64(),
    "cost_billed_units": pl.Int64(),
    "cost_first_increment_s": pl.Int64(),
    "cost_next_increment_s": pl.Int64(),
}


def priced(records: list[dict[str, Any]], rules: list[MarginRule]) -> dict[str, dict[str, Any]]:
    frame = pl.LazyFrame(records, schema=SCHEMA)
    out = price_by_margin(frame, margin_rules_frame(rules)).collect()
    assert not set(COST_QUANTITIES.values()) & set(out.columns)
    return {row["record_key"]: row for row in out.iter_rows(named=True)}


def amount(percent: str, cost: int, **rule: Any) -> int:
    rules = [MarginRule("m", Decimal(percent), **rule)]
    return int(priced([a_record(cost_micros=cost)], rules)["c1"]["amount_micros"])


def test_a_record_without_a_rate_is_priced_at_cost_plus_the_percentage() -> None:
    # given a call to the UK that no card rates, costing 0.02 for 60 s
    # when the tenant's rule is cost + 12.5 %
    [row] = priced([a_record()], [MarginRule("m1", Decimal("12.5"))]).values()
    # then it costs the customer 0.0225, billed as its cost was, and says why
    assert (row["amount_micros"], row["reject_reason"], row["margin_rule_id"]) == (
        22_500,
        None,
        "m1",
    )
    assert (row["billed_s"], row["first_increment_s"], row["next_increment_s"]) == (60, 60, 60)


@pytest.mark.parametrize(
    ("percent", "cost", "retail"),
    [
        ("30", 5, 7),  # 6.5 → 7 half-up (Polars' half-to-even would give 6)
        ("50", 5, 8),  # 7.5 → 8
        ("12.5", 4, 5),  # 4.5 → 5
        ("10", 2_500_005, 2_750_006),  # 2,750,005.5 → 2,750,006
        ("-10", 5, 5),  # 4.5 → 5: a negative margin rounds half-up too
        ("0.0001", 5_000_000, 5_000_005),  # 5,000,005 exactly
        ("0.0001", 4_999_999, 5_000_004),  # 5,000,003.9999999 → 5,000,004
        ("10000", 3, 303),
        ("0", 0, 0),
    ],
)
def test_the_marked_up_cost_rounds_half_up_to_the_micro_unit(
    percent: str, cost: int, retail: int
) -> None:
    assert amount(percent, cost) == retail


def test_a_minimum_margin_per_minute_raises_a_thin_margin() -> None:
    # 10 % of 0.02 is 0.002 a minute; the rule wants at least 0.005 a minute over cost
    assert amount("10", 20_000, min_margin_micros=5_000) == 25_000
    # where the percentage gives more, it stands
    assert amount("50", 20_000, min_margin_micros=5_000) == 30_000


def test_the_minimum_margin_of_a_call_is_rounded_half_up_on_its_billed_seconds() -> None:
    # 3 micro-units a minute over 90 s is 4.5 → 5; 0 % on cost 1,000 gives 1,000 + 5
    records = [a_record(cost_micros=1_000, cost_billed_s=90)]
    rule = MarginRule("m", Decimal(0), min_margin_micros=3)
    assert priced(records, [rule])["c1"]["amount_micros"] == 1_005


def test_the_minimum_margin_of_units_is_per_unit() -> None:
    # 2 sms costing 0.01 in all: at least 0.002 a unit over cost → 0.014
    sms = a_record(usage_type="sms", cost_billed_s=0, cost_billed_units=2, cost_micros=10_000)
    rule = MarginRule("m", Decimal(10), min_margin_micros=2_000)
    row = priced([sms], [rule])["c1"]
    assert (row["amount_micros"], row["billed_units"], row["billed_s"]) == (14_000, 2, 0)


def test_a_card_rate_wins_and_no_cost_or_a_bad_number_stays_rejected() -> None:
    records = [
        a_record("card", reject_reason=None, rate_id="r44", amount_micros=60_000, billed_s=60),
        a_record("no cost", cost_micros=None, cost_billed_s=None, cost_first_increment_s=None),
        a_record("bad", reject_reason="invalid_number", called="+0"),
    ]
    rows = priced(records, [MarginRule("m", Decimal(50))])
    assert rows["card"]["amount_micros"] == 60_000  # precedence: the card's price
    assert rows["card"]["margin_rule_id"] is None
    assert [(rows[k]["reject_reason"], rows[k]["margin_rule_id"]) for k in ("no cost", "bad")] == [
        ("no_rate", None),
        ("invalid_number", None),
    ]
    assert rows["no cost"]["amount_micros"] == 0


def test_the_longest_prefix_wins_then_the_usage_type() -> None:
    rules = [
        MarginRule("all", Decimal(10)),
        MarginRule("voice", Decimal(20), usage_type="voice"),
        MarginRule("uk", Decimal(30), prefix="44"),
        MarginRule("uk voice", Decimal(40), prefix="44", usage_type="voice"),
        MarginRule("london", Decimal(50), prefix="4420"),
    ]
    records = [
        a_record("london", called="+442071234567"),
        a_record("uk", called="+447700900123"),
        a_record("uk sms", called="+447700900123", usage_type="sms"),
        a_record("france", called="+33123456789"),
        a_record("france sms", called="+33123456789", usage_type="sms"),
    ]
    rows = priced(records, rules)
    assert {k: (r["margin_rule_id"], r["amount_micros"]) for k, r in rows.items()} == {
        "london": ("london", 30_000),
        "uk": ("uk voice", 28_000),
        "uk sms": ("uk", 26_000),
        "france": ("voice", 24_000),
        "france sms": ("all", 22_000),
    }


def test_a_brand_rule_wins_over_its_parents_even_with_a_shorter_prefix() -> None:
    rules = [
        MarginRule("parent uk", Decimal(30), prefix="44", tenant_id="brand", depth=1),
        MarginRule("brand all", Decimal(10), tenant_id="brand", depth=0),
        MarginRule("other", Decimal(90), tenant_id="other", depth=0),
    ]
    rows = priced([a_record("b"), a_record("o", tenant_id="other")], rules)
    assert [rows[k]["margin_rule_id"] for k in "bo"] == ["brand all", "other"]


def test_a_rule_applies_inside_its_window_only() -> None:
    rules = [
        MarginRule("jan", Decimal(10), valid_from=JAN, valid_to=DAY),
        MarginRule("later", Decimal(20), valid_from=DAY),
    ]
    records = [
        a_record("before", started_at=JAN - timedelta(seconds=1)),
        a_record("first", started_at=JAN),
        a_record("second", started_at=DAY),
    ]
    rows = priced(records, rules)
    assert [rows[k]["margin_rule_id"] for k in ("before", "first", "second")] == [
        None,
        "jan",
        "later",
    ]


def test_without_rules_nothing_changes_but_the_empty_lineage_column() -> None:
    rows = priced([a_record()], [])
    assert (rows["c1"]["reject_reason"], rows["c1"]["margin_rule_id"]) == ("no_rate", None)


@pytest.mark.parametrize(
    ("percent", "problem"),
    [
        ("-100", "more than -100"),
        ("10000.0001", "at most 10000"),
        ("NaN", "more than -100"),
        ("12.34567", "4 decimal places"),
    ],
)
def test_a_percentage_out_of_range_or_too_fine_is_refused(percent: str, problem: str) -> None:
    assert problem in (percent_problem(Decimal(percent)) or "")
    with pytest.raises(ValueError, match=problem):
        MarginRule("m", Decimal(percent))


def test_a_rule_refuses_a_bad_prefix_or_a_negative_minimum() -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        MarginRule("m", Decimal(1), prefix="4a")
    with pytest.raises(ValueError, match="starts with 0"):
        MarginRule("m", Decimal(1), prefix="044")
    with pytest.raises(ValueError, match=">= 0"):
        MarginRule("m", Decimal(1), min_margin_micros=-1)


PERCENTS = st.decimals(
    min_value=Decimal("-99.9999"), max_value=Decimal(10_000), places=4, allow_nan=False
)


@settings(max_examples=300, deadline=None)
@given(
    costs=st.lists(st.integers(0, 10**13), min_size=1, max_size=20),
    percent=PERCENTS,
    minimum=st.none() | st.integers(0, 10**7),
    seconds=st.integers(0, 10**6),
)
def test_the_price_is_the_exact_decimal_markup_rounded_half_up(
    costs: list[int], percent: Decimal, minimum: int | None, seconds: int
) -> None:
    # given calls of any cost and a rule of any allowed percentage and minimum
    records = [a_record(str(i), cost_micros=c, cost_billed_s=seconds) for i, c in enumerate(costs)]
    rule = MarginRule("m", percent, min_margin_micros=minimum)
    # when priced, then each equals Decimal arithmetic, half-up once per step
    rows = priced(records, [rule])
    for i, cost in enumerate(costs):
        expected = (Decimal(cost) * (1 + percent / 100)).quantize(Decimal(1), ROUND_HALF_UP)
        if minimum is not None:
            floor = (Decimal(minimum) * seconds / 60).quantize(Decimal(1), ROUND_HALF_UP)
            expected = max(expected, cost + floor)
        assert rows[str(i)]["amount_micros"] == expected
    assert factor_ppm(percent) == 1_000_000 + percent * 10_000
