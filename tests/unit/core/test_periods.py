"""Billing periods: anchors, clamped billing days, cadences, and periods that tile time."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.core.errors import InvalidInputError
from billstream.core.periods import BillingPeriod, Cadence, period_containing, periods_between

UNIT_SETTINGS = settings(max_examples=300)
MONTHLY, QUARTERLY, ANNUAL = Cadence.MONTHLY, Cadence.QUARTERLY, Cadence.ANNUAL

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


def span(start: date, end: date) -> BillingPeriod:
    return BillingPeriod(start, end)


# --- cadences and the period itself -----------------------------------------------------


def test_a_cadence_knows_its_length_in_months() -> None:
    assert [c.months for c in Cadence] == [1, 3, 12]
    assert Cadence("quarterly") is QUARTERLY


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 1, 1), date(2026, 2, 1), 31),
        (date(2026, 2, 1), date(2026, 3, 1), 28),
        (date(2028, 2, 1), date(2028, 3, 1), 29),
        (date(2026, 4, 1), date(2026, 5, 1), 30),
    ],
)
def test_a_period_counts_its_real_days(start: date, end: date, days: int) -> None:
    assert span(start, end).days == days
    assert span(start, end).last_day == end - timedelta(days=1)


def test_a_period_is_half_open() -> None:
    january = span(date(2026, 1, 1), date(2026, 2, 1))
    assert january.contains(date(2026, 1, 1))
    assert january.contains(date(2026, 1, 31))
    assert not january.contains(date(2026, 2, 1))
    assert not january.contains(date(2025, 12, 31))


@pytest.mark.parametrize("end", [date(2026, 1, 1), date(2025, 12, 1)])
def test_a_period_ending_before_it_starts_is_refused(end: date) -> None:
    with pytest.raises(InvalidInputError) as raised:
        span(date(2026, 1, 1), end)
    assert raised.value.field == "period"


# --- calendar monthly ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 1, 31), date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 28), date(2026, 2, 1), date(2026, 3, 1)),
        (date(2028, 2, 29), date(2028, 2, 1), date(2028, 3, 1)),
        (date(2026, 4, 30), date(2026, 4, 1), date(2026, 5, 1)),
        (date(2026, 12, 31), date(2026, 12, 1), date(2027, 1, 1)),
    ],
)
def test_calendar_monthly_periods_are_the_calendar_months(
    day: date, start: date, end: date
) -> None:
    assert period_containing(day, anchor=date(2026, 1, 1), cadence=MONTHLY) == span(start, end)


def test_a_day_before_the_anchor_has_its_period_too() -> None:
    got = period_containing(date(2025, 11, 17), anchor=date(2026, 1, 1), cadence=MONTHLY)
    assert got == span(date(2025, 11, 1), date(2025, 12, 1))


# --- anniversary billing days: 29, 30, 31 clamp, and do not drift -------------------------


def test_billing_day_31_clamps_to_february_and_returns_to_the_31st_in_march() -> None:
    # given a billing day of 31 (anchor Jan 31)
    anchor = date(2026, 1, 31)
    # when the periods of the first half of the year are listed
    got = periods_between(date(2026, 1, 31), date(2026, 6, 29), anchor=anchor, cadence=MONTHLY)
    # then short months end the period on their last day and long months on the 31st
    assert [(p.start, p.days) for p in got] == [
        (date(2026, 1, 31), 28),
        (date(2026, 2, 28), 31),
        (date(2026, 3, 31), 30),
        (date(2026, 4, 30), 31),
        (date(2026, 5, 31), 30),
    ]


def test_billing_day_31_in_a_leap_february_clamps_to_the_29th() -> None:
    got = period_containing(date(2028, 3, 1), anchor=date(2028, 1, 31), cadence=MONTHLY)
    assert got == span(date(2028, 2, 29), date(2028, 3, 31))
    assert got.days == 31


def test_billing_day_29_is_the_29th_in_a_leap_february_and_the_28th_otherwise() -> None:
    anchor = date(2027, 1, 29)
    assert period_containing(date(2028, 2, 29), anchor=anchor, cadence=MONTHLY) == span(
        date(2028, 2, 29), date(2028, 3, 29)
    )
    assert period_containing(date(2027, 2, 28), anchor=anchor, cadence=MONTHLY) == span(
        date(2027, 2, 28), date(2027, 3, 29)
    )


def test_an_anniversary_on_the_30th_clamps_only_in_february() -> None:
    got = periods_between(
        date(2027, 1, 30), date(2027, 4, 29), anchor=date(2026, 9, 30), cadence=MONTHLY
    )
    assert got == [
        span(date(2027, 1, 30), date(2027, 2, 28)),
        span(date(2027, 2, 28), date(2027, 3, 30)),
        span(date(2027, 3, 30), date(2027, 4, 30)),
    ]


# --- quarterly and annual -----------------------------------------------------------------


def test_quarterly_periods_follow_the_anchor_in_steps_of_three_months() -> None:
    got = periods_between(
        date(2026, 1, 1), date(2026, 12, 31), anchor=date(2026, 2, 15), cadence=QUARTERLY
    )
    assert got == [
        span(date(2025, 11, 15), date(2026, 2, 15)),
        span(date(2026, 2, 15), date(2026, 5, 15)),
        span(date(2026, 5, 15), date(2026, 8, 15)),
        span(date(2026, 8, 15), date(2026, 11, 15)),
        span(date(2026, 11, 15), date(2027, 2, 15)),
    ]


def test_a_quarterly_anchor_on_the_31st_clamps_in_short_months() -> None:
    got = periods_between(
        date(2026, 1, 31), date(2027, 1, 30), anchor=date(2026, 1, 31), cadence=QUARTERLY
    )
    assert [p.start for p in got] == [
        date(2026, 1, 31),
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 10, 31),
    ]
    assert [p.days for p in got] == [89, 92, 92, 92]


def test_an_annual_anchor_on_february_29_clamps_to_the_28th_in_common_years() -> None:
    anchor = date(2028, 2, 29)
    assert period_containing(date(2029, 6, 1), anchor=anchor, cadence=ANNUAL) == span(
        date(2029, 2, 28), date(2030, 2, 28)
    )
    assert period_containing(date(2032, 2, 29), anchor=anchor, cadence=ANNUAL) == span(
        date(2032, 2, 29), date(2033, 2, 28)
    )
    assert period_containing(date(2028, 2, 28), anchor=anchor, cadence=ANNUAL) == span(
        date(2027, 2, 28), date(2028, 2, 29)
    )


def test_an_annual_period_counts_366_days_over_a_leap_day() -> None:
    got = period_containing(date(2028, 7, 1), anchor=date(2026, 1, 1), cadence=ANNUAL)
    assert got == span(date(2028, 1, 1), date(2029, 1, 1))
    assert got.days == 366


# --- periods_between --------------------------------------------------------------------


def test_periods_between_includes_the_until_day() -> None:
    got = periods_between(
        date(2026, 1, 16), date(2026, 2, 1), anchor=date(2026, 1, 1), cadence=MONTHLY
    )
    assert got == [
        span(date(2026, 1, 1), date(2026, 2, 1)),
        span(date(2026, 2, 1), date(2026, 3, 1)),
    ]


def test_periods_between_one_day_is_that_day_s_period() -> None:
    day = date(2026, 5, 31)
    got = periods_between(day, day, anchor=date(2026, 1, 1), cadence=MONTHLY)
    assert got == [span(date(2026, 5, 1), date(2026, 6, 1))]


def test_periods_between_an_empty_range_is_empty() -> None:
    got = periods_between(
        date(2026, 2, 1), date(2026, 1, 31), anchor=date(2026, 1, 1), cadence=MONTHLY
    )
    assert got == []


# --- properties ---------------------------------------------------------------------------


@UNIT_SETTINGS
@given(day=days, anchor=days, cadence=st.sampled_from(Cadence))
def test_the_period_containing_a_day_contains_it(day: date, anchor: date, cadence: Cadence) -> None:
    period = period_containing(day, anchor=anchor, cadence=cadence)
    assert period.start <= day < period.end
    assert period.contains(day)


@UNIT_SETTINGS
@given(day=days, anchor=days, cadence=st.sampled_from(Cadence))
def test_periods_start_on_the_billing_day_clamped_to_the_month(
    day: date, anchor: date, cadence: Cadence
) -> None:
    period = period_containing(day, anchor=anchor, cadence=cadence)
    for boundary in (period.start, period.end):
        month_end = (boundary.replace(day=28) + timedelta(days=4)).replace(day=1)
        last_day = (month_end - timedelta(days=1)).day
        assert boundary.day == min(anchor.day, last_day)
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month
    assert months == cadence.months


@UNIT_SETTINGS
@given(
    start=days,
    length=st.integers(min_value=0, max_value=800),
    anchor=days,
    cadence=st.sampled_from(Cadence),
)
def test_consecutive_periods_tile_time_with_no_gap_or_overlap(
    start: date, length: int, anchor: date, cadence: Cadence
) -> None:
    until = start + timedelta(days=length)
    got = periods_between(start, until, anchor=anchor, cadence=cadence)
    assert got[0].contains(start)
    assert got[-1].contains(until)
    assert all(a.end == b.start for a, b in pairwise(got))
    for day in (start + timedelta(days=n) for n in range(0, length + 1, 7)):
        assert [p for p in got if p.contains(day)] == [
            period_containing(day, anchor=anchor, cadence=cadence)
        ]


@UNIT_SETTINGS
@given(anchor=days, cadence=st.sampled_from(Cadence))
def test_the_anchor_starts_its_own_period(anchor: date, cadence: Cadence) -> None:
    assert period_containing(anchor, anchor=anchor, cadence=cadence).start == anchor
