"""Included quantities consumed in time order, one call straddling the end; tiers on the total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from billstream.rating.allowances import Tier, apply_tiers, consume_allowances
from billstream.rating.rater import RATE_SCHEMA, rate

START = datetime(2026, 1, 5, 10, tzinfo=UTC)
CARD = pl.LazyFrame(
    [
        {
            "rate_id": "r44",
            "card_version_id": "v1",
            "account_id": None,
            "prefix": "44",
            "usage_type": "voice",
            "band": "all",
            "valid_from": datetime(2026, 1, 1, tzinfo=UTC),
            "valid_to": None,
            "rate_micros": 60_000,
            "connect_fee_micros": 10_000,
            "min_duration_s": 0,
            "first_increment_s": 60,
            "next_increment_s": 60,
        }
    ],
    schema=RATE_SCHEMA,
)


def calls(*durations: int, account: str = "acc1") -> list[dict[str, Any]]:
    return [
        {
            "record_key": f"{account}-{i}",
            "account_id": account,
            "usage_type": "voice",
            "started_at": START + timedelta(hours=i),
            "duration_s": d,
            "quantity": 0,
            "called": "+442071234567",
        }
        for i, d in enumerate(durations)
    ]


def rated(rows: list[dict[str, Any]]) -> pl.LazyFrame:
    return rate(pl.LazyFrame(rows), CARD)


def test_a_call_straddling_the_allowance_is_split_into_free_and_charged_parts() -> None:
    # given 500 included minutes and calls of 499 min, 3 min, then 2 min, in time order
    included = pl.LazyFrame({"account_id": ["acc1"], "usage_type": ["voice"], "included": [30_000]})
    rows = rated(calls(3, 499 * 60, 180, 120))
    # the 3 s call comes first: 60 s billed, all covered
    out = consume_allowances(rows, included).collect().sort("started_at").to_dicts()
    got = [(r["allowance_s"], r["billed_s"], r["amount_micros"]) for r in out]
    # 60 + 29,940 = 30,000: the allowance ends exactly after the second call
    assert got == [(60, 0, 0), (29_940, 0, 0), (0, 180, 190_000), (0, 120, 130_000)]


def test_the_straddling_call_pays_its_connect_fee_and_only_the_charged_seconds() -> None:
    included = pl.LazyFrame({"account_id": ["acc1"], "usage_type": ["voice"], "included": [300]})
    out = consume_allowances(rated(calls(240, 240)), included).collect().to_dicts()
    # second call: 60 s covered, 180 s charged: 0.01 fee + 3 min x 0.06
    assert [(r["allowance_s"], r["billed_s"], r["amount_micros"]) for r in out] == [
        (240, 0, 0),
        (60, 180, 190_000),
    ]


def test_allowances_are_per_account_and_consumed_in_time_order_not_file_order() -> None:
    rows = calls(120, 120) + calls(600, account="acc2")
    rows.reverse()  # the frame's order must not matter
    included = pl.LazyFrame({"account_id": ["acc1"], "usage_type": ["voice"], "included": [120]})
    out = consume_allowances(rated(rows), included).collect().sort("record_key").to_dicts()
    assert [(r["record_key"], r["allowance_s"], r["billed_s"]) for r in out] == [
        ("acc1-0", 120, 0),
        ("acc1-1", 0, 120),
        ("acc2-0", 0, 600),
    ]


def test_tiers_price_the_period_total_graduated() -> None:
    # given 0.06/min for the first 10 minutes of the period, then 0.03/min
    tiers = [Tier(0, 60_000), Tier(600, 30_000)]
    out = apply_tiers(rated(calls(480, 240, 300)), tiers, usage_type="voice").collect()
    # 8 min all tier 1; 4 min = 2 at 0.06 + 2 at 0.03; 5 min all tier 2; fee 0.01 each
    assert out["amount_micros"].to_list() == [490_000, 190_000, 160_000]


def test_tiers_must_start_at_zero() -> None:
    with pytest.raises(ValueError, match="start at quantity 0"):
        apply_tiers(rated(calls(60)), [Tier(10, 1)], usage_type="voice")
