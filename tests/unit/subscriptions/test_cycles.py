"""Billing anchors: calendar periods, and anniversary days 29-31 that clamp in short months."""

from __future__ import annotations

from datetime import date

import pytest

from billstream.core.periods import Cadence, period_containing
from billstream.subscriptions.cycles import add_months, billing_anchor


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 16), 2, date(2026, 3, 16)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 1), 12, date(2027, 1, 1)),
    ],
)
def test_add_months_clamps_to_the_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_calendar_billing_anchors_on_january_first_so_quarters_are_calendar_quarters() -> None:
    # given an order on May 20 on calendar billing
    anchor = billing_anchor("calendar", 1, date(2026, 5, 20))
    # then months are calendar months and quarters calendar quarters
    assert anchor == date(2026, 1, 1)
    month = period_containing(date(2026, 5, 20), anchor=anchor, cadence=Cadence.MONTHLY)
    quarter = period_containing(date(2026, 5, 20), anchor=anchor, cadence=Cadence.QUARTERLY)
    assert (month.start, month.end) == (date(2026, 5, 1), date(2026, 6, 1))
    assert (quarter.start, quarter.end) == (date(2026, 4, 1), date(2026, 7, 1))


@pytest.mark.parametrize(
    ("day", "start", "anchor"),
    [
        (15, date(2026, 2, 15), date(2026, 2, 15)),
        (15, date(2026, 2, 10), date(2026, 1, 15)),
        (31, date(2026, 2, 10), date(2026, 1, 31)),
        (31, date(2026, 3, 5), date(2026, 1, 31)),
        (30, date(2026, 3, 1), date(2026, 1, 30)),
        (29, date(2028, 3, 1), date(2028, 2, 29)),
        (31, date(2026, 5, 31), date(2026, 5, 31)),
    ],
)
def test_an_anniversary_anchor_keeps_its_billing_day(day: int, start: date, anchor: date) -> None:
    assert billing_anchor("anniversary", day, start) == anchor


def test_billing_day_31_gives_periods_ending_on_february_28_then_march_31() -> None:
    # given an anniversary on day 31 from Feb 10, 2026
    anchor = billing_anchor("anniversary", 31, date(2026, 2, 10))
    # then Feb 10 lies in Jan 31 - Feb 27, and the next period runs Feb 28 - Mar 30
    first = period_containing(date(2026, 2, 10), anchor=anchor, cadence=Cadence.MONTHLY)
    after = period_containing(first.end, anchor=anchor, cadence=Cadence.MONTHLY)
    assert (first.start, first.end, first.days) == (date(2026, 1, 31), date(2026, 2, 28), 28)
    assert (after.start, after.end, after.days) == (date(2026, 2, 28), date(2026, 3, 31), 31)
