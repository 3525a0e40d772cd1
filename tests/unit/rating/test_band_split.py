"""Calls split at time-band boundaries (a rounding rule with ``split_bands``)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.rating.allowances import consume_allowances
from billstream.rating.rater import RATE_SCHEMA, RoundingMode, RoundingRules, TimeBands, rate
from billstream.rating.reference import rate_records
from tests.unit.rating.test_rater import USAGE_SCHEMA, a_call, a_rate, rated

SPLIT = RoundingRules(first_s=60, next_s=60, split_bands=True)
NO_WEEKEND = TimeBands(peak_from=time(1, 30), peak_to=time(20), weekend_days=())


def banded(**fields: Any) -> list[dict[str, Any]]:
    """44 at 2,000 micro-units a second at peak, 1,000 off-peak, 500 at the weekend."""
    return [
        a_rate(band="peak", rate_id="peak", rate_micros=120_000, **fields),
        a_rate(band="offpeak", rate_id="offpeak", rate_micros=60_000),
        a_rate(band="weekend", rate_id="weekend", rate_micros=30_000),
    ]


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


def parts(row: dict[str, Any]) -> list[tuple[str, int]] | None:
    if row["band_parts"] is None:
        return None
    return [(p["band"], p["seconds"]) for p in row["band_parts"]]


def test_a_peak_call_crossing_into_offpeak_by_90_s() -> None:
    # given a Monday call from 19:59 London time (GMT) of 150 s: 60 s peak, 90 s off-peak
    call = a_call(started_at=at(2026, 1, 5, 19, 59), duration_s=150)
    # when rated at 60/60 with split_bands
    row = rated([call], banded(), rules=SPLIT, timezone="Europe/London")[0]
    # then 180 s are billed once; 60 s at peak, the other 120 s (rounding included) off-peak
    assert (row["band"], row["billed_s"]) == ("peak", 180)
    assert parts(row) == [("peak", 60), ("offpeak", 120)]
    assert row["amount_micros"] == 60 * 2_000 + 120 * 1_000


def test_without_split_bands_the_call_is_rated_at_its_start_band_as_before() -> None:
    call = a_call(started_at=at(2026, 1, 5, 19, 59), duration_s=150)
    no_split = RoundingRules(first_s=60, next_s=60)
    for options in ({}, {"rules": no_split}):
        row = rated([call], banded(), timezone="Europe/London", **options)[0]
        assert (row["billed_s"], row["amount_micros"]) == (180, 180 * 2_000)
        assert "band_parts" not in row  # no rule splits: not even the column


def test_a_call_ending_exactly_at_the_boundary_is_not_split() -> None:
    call = a_call(started_at=at(2026, 1, 5, 19, 59), duration_s=60)
    row = rated([call], banded(), rules=SPLIT, timezone="Europe/London")[0]
    assert (parts(row), row["amount_micros"]) == (None, 60 * 2_000)


def test_a_boundary_moved_by_summer_time() -> None:
    # given Monday 30 March (BST): the peak starts at 08:00 BST = 07:00 UTC, not 08:00 UTC
    call = a_call(started_at=at(2026, 3, 30, 6, 59), duration_s=120)
    row = rated([call], banded(), rules=SPLIT, timezone="Europe/London")[0]
    assert parts(row) == [("offpeak", 60), ("peak", 60)]
    assert row["amount_micros"] == 60 * 1_000 + 60 * 2_000


def test_a_boundary_skipped_by_the_dst_change_splits_at_the_change() -> None:
    # given the peak from 01:30, which London skips on 29 March (01:00 GMT → 02:00 BST)
    call = a_call(started_at=at(2026, 3, 29, 0, 59), duration_s=120)
    row = rated([call], banded(), rules=SPLIT, timezone="Europe/London", bands=NO_WEEKEND)[0]
    # then the peak starts at the change itself, 01:00 UTC
    assert parts(row) == [("offpeak", 60), ("peak", 60)]


def test_a_boundary_repeated_by_the_dst_change_splits_three_times() -> None:
    # given the peak from 01:30, which London lives twice on 25 October (02:00 BST → 01:00 GMT)
    call = a_call(started_at=at(2026, 10, 25, 0, 29), duration_s=3_600)
    row = rated([call], banded(), rules=SPLIT, timezone="Europe/London", bands=NO_WEEKEND)[0]
    # then 00:30 UTC (01:30 BST) peak, 01:00 UTC (01:00 GMT) off-peak again, then 01:30 peak
    assert parts(row) == [("offpeak", 60), ("peak", 1_800), ("offpeak", 1_740)]
    assert row["amount_micros"] == 60 * 1_000 + 1_800 * 2_000 + 1_740 * 1_000


def test_a_friday_evening_call_into_the_weekend() -> None:
    call = a_call(started_at=at(2026, 1, 9, 23, 59), duration_s=150)
    row = rated([call], banded(), rules=SPLIT, timezone="Europe/London")[0]
    assert parts(row) == [("offpeak", 60), ("weekend", 120)]
    assert row["amount_micros"] == 60 * 1_000 + 120 * 500


def test_a_long_call_through_two_boundaries() -> None:
    # given Friday 19:30 for 5 hours: peak to 20:00, off-peak to midnight, then the weekend
    call = a_call(started_at=at(2026, 1, 9, 19, 30), duration_s=5 * 3_600)
    row = rated([call], banded(), rules=SPLIT, timezone="Europe/London")[0]
    assert parts(row) == [("peak", 1_800), ("offpeak", 14_400), ("weekend", 1_800)]


def test_the_connect_fee_is_charged_once_with_the_first_part() -> None:
    card = banded(connect_fee_micros=10_000)
    card[1]["connect_fee_micros"] = 99_000  # the off-peak rate's fee is not charged
    call = a_call(started_at=at(2026, 1, 5, 19, 59), duration_s=150)
    row = rated([call], card, rules=SPLIT, timezone="Europe/London")[0]
    assert row["amount_micros"] == 10_000 + 60 * 2_000 + 120 * 1_000


def test_a_minimum_duration_is_applied_to_the_whole_call_first() -> None:
    # given a 300 s minimum: a 40 s call from 19:59:30 bills 300 s, 30 s of them at peak
    call = a_call(started_at=at(2026, 1, 5, 19, 59, 30), duration_s=40)
    row = rated([call], banded(min_duration_s=300), rules=SPLIT, timezone="Europe/London")[0]
    assert (row["billed_s"], parts(row)) == (300, [("peak", 30), ("offpeak", 270)])


def test_each_part_rounds_half_up() -> None:
    # 1 s at 30 micro-units a minute is 0.5 → 1; 59 s at 90 a minute is 88.5 → 89
    card = [
        a_rate(band="peak", rate_id="p", rate_micros=30),
        a_rate(band="offpeak", rate_id="o", rate_micros=90),
    ]
    rules = RoundingRules(first_s=1, next_s=1, split_bands=True)
    call = a_call(started_at=at(2026, 1, 5, 19, 59, 59), duration_s=60)
    row = rated([call], card, rules=rules, timezone="Europe/London")[0]
    assert (parts(row), row["amount_micros"]) == ([("peak", 1), ("offpeak", 59)], 1 + 89)


def test_a_band_without_a_rate_for_the_prefix_leaves_the_call_whole() -> None:
    card = [a_rate(band="peak", rate_id="peak", rate_micros=120_000)]
    call = a_call(started_at=at(2026, 1, 5, 19, 59), duration_s=150)
    row = rated([call], card, rules=SPLIT, timezone="Europe/London")[0]
    assert (parts(row), row["amount_micros"]) == (None, 180 * 2_000)


def test_an_all_band_rate_is_not_split() -> None:
    call = a_call(started_at=at(2026, 1, 5, 19, 59), duration_s=150)
    row = rated([call], [a_rate()], rules=SPLIT, timezone="Europe/London")[0]
    assert (parts(row), row["amount_micros"]) == (None, 180 * 1_000)


def test_non_time_usage_and_unrated_calls_are_never_split() -> None:
    sms = a_call("s", usage_type="sms", quantity=2, started_at=at(2026, 1, 5, 19, 59))
    unknown = a_call("u", called="+3312345", started_at=at(2026, 1, 5, 19, 59), duration_s=150)
    card = [*banded(), a_rate(usage_type="sms", rate_micros=50_000)]
    rows = rated([sms, unknown], card, rules=SPLIT, timezone="Europe/London")
    assert [(r["band_parts"], r["reject_reason"]) for r in rows] == [
        (None, None),
        (None, "no_rate"),
    ]


# --- the vectorised split equals the per-record reference, around boundaries and DST -------

EDGES = [
    at(2026, 1, 5, 20),  # Monday evening, winter
    at(2026, 1, 9, 20),  # Friday evening, before the weekend
    at(2026, 1, 12, 0),  # Monday midnight, the weekend ends
    at(2026, 3, 8, 7),  # New York springs forward
    at(2026, 3, 29, 1),  # London springs forward
    at(2026, 10, 25, 1),  # London falls back
    at(2026, 11, 1, 6),  # New York falls back
]
BANDS = st.sampled_from(
    [
        TimeBands(),
        NO_WEEKEND,
        TimeBands(peak_from=time(0, 30), peak_to=time(2, 15), weekend_days=(5, 6)),
        TimeBands(peak_from=time(8), peak_to=time(8)),
    ]
)


@st.composite
def split_cards(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for i in range(draw(st.integers(1, 6))):
        rows.append(
            a_rate(
                rate_id=f"r{i}",
                prefix=draw(st.sampled_from(["4", "44", "441"])),
                band=draw(st.sampled_from(["all", "peak", "offpeak", "weekend"])),
                rate_micros=draw(st.integers(0, 2_000_000)),
                connect_fee_micros=draw(st.integers(0, 50_000)),
                min_duration_s=draw(st.sampled_from([0, 0, 90, 600])),
            )
        )
    return rows


CALLS_NEAR_EDGES = st.lists(
    st.builds(
        a_call,
        key=st.uuids().map(str),
        started_at=st.builds(
            lambda edge, s, us: edge + timedelta(seconds=s, microseconds=us),
            st.sampled_from(EDGES),
            st.integers(-30_000, 600),
            st.sampled_from([0, 0, 1, 500_000]),
        ),
        duration_s=st.integers(0, 40_000),
        called=st.sampled_from(["+441234", "+4499", "+49123"]),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=100, deadline=None)
@given(
    card=split_cards(),
    calls=CALLS_NEAR_EDGES,
    bands=BANDS,
    first=st.sampled_from([0, 1, 30, 60]),
    next_=st.sampled_from([1, 6, 60]),
    mode=st.sampled_from(list(RoundingMode)),
    timezone=st.sampled_from(["UTC", "Europe/London", "America/New_York"]),
)
def test_split_calls_equal_the_reference_around_boundaries_and_dst(
    card: list[dict[str, Any]],
    calls: list[dict[str, Any]],
    bands: TimeBands,
    first: int,
    next_: int,
    mode: RoundingMode,
    timezone: str,
) -> None:
    rules = RoundingRules(first_s=first, next_s=next_, mode=mode, split_bands=True)
    options: dict[str, Any] = {"rules": rules, "timezone": timezone, "bands": bands}
    fast = rated(calls, card, **options)
    slow = rate_records(calls, card, **options)
    assert [(r["record_key"], r["billed_s"], r["amount_micros"], _parts(r)) for r in fast] == [
        (r.record_key, r.billed_s, r.amount_micros, r.band_parts) for r in slow
    ]


def _parts(row: dict[str, Any]) -> tuple[tuple[str, int, str], ...] | None:
    if row["band_parts"] is None:
        return None
    return tuple((p["band"], p["seconds"], p["rate_id"]) for p in row["band_parts"])


@pytest.mark.parametrize("seconds", [1, 59, 60, 61])
def test_a_fractional_start_counts_its_started_second_to_the_start_band(seconds: int) -> None:
    # given a call starting half a second before 20:00: its first billed second is peak
    call = a_call(started_at=at(2026, 1, 5, 19, 59, 59) + timedelta(microseconds=500_000),
                  duration_s=seconds)  # fmt: skip
    rules = RoundingRules(first_s=1, next_s=1, split_bands=True)
    row = rated([call], banded(), rules=rules, timezone="Europe/London")[0]
    expected = [("peak", 1), ("offpeak", seconds - 1)] if seconds > 1 else None
    assert parts(row) == expected


def test_an_allowance_covers_a_split_call_from_its_start() -> None:
    # given a split call (60 s peak + 120 s off-peak) and 90 s left of the allowance
    call = a_call(started_at=at(2026, 1, 5, 19, 59), duration_s=150)
    rows = rate(
        pl.LazyFrame([call], schema=USAGE_SCHEMA),
        pl.LazyFrame(banded(connect_fee_micros=7_000), schema=RATE_SCHEMA),
        rules=SPLIT,
        timezone="Europe/London",
    )
    allowance = pl.LazyFrame({"account_id": ["acc1"], "usage_type": ["voice"], "included": [90]})
    row = consume_allowances(rows, allowance).collect().row(0, named=True)
    # then the 60 peak seconds and 30 off-peak ones are covered; 90 off-peak ones are charged
    assert (row["allowance_s"], row["billed_s"]) == (90, 90)
    assert row["amount_micros"] == 7_000 + 90 * 1_000
