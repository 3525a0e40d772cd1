"""Billing cycles of a subscription: its anchor, and dates moved by whole months. Pure."""

from __future__ import annotations

import calendar
from datetime import date

CALENDAR = "calendar"


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` months, clamped to the target month's last day."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def billing_anchor(cycle: str, billing_day: int, start: date) -> date:
    """The first day of a billing period at or before `start`, on the billing day itself.

    Calendar billing: January 1st of the start year, so monthly periods are calendar months,
    quarterly ones calendar quarters and annual ones calendar years. Anniversary billing:
    the latest date on or before `start` whose day is `billing_day` (a month too short for
    it is skipped, so the anchor keeps day 29-31 and periods clamp to short months' ends).

    >>> billing_anchor("anniversary", 31, date(2026, 2, 10))
    datetime.date(2026, 1, 31)
    >>> billing_anchor("calendar", 1, date(2026, 5, 20))
    datetime.date(2026, 1, 1)
    """
    if cycle == CALENDAR:
        return date(start.year, 1, 1)
    for back in range(24):
        month = add_months(start.replace(day=1), -back)
        if billing_day <= calendar.monthrange(month.year, month.month)[1]:
            candidate = month.replace(day=billing_day)
            if candidate <= start:
                return candidate
    raise ValueError(f"no day {billing_day} in the two years before {start}")
