"""Billing periods: where each period of a monthly, quarterly or annual cycle starts and ends.

A cycle is fixed by its **anchor**, the first day of any one of its periods. Every boundary
is the anchor shifted by a whole number of cycles (1, 3 or 12 months), on the anchor's day of
the month, clamped to the month's last day when the month is shorter. So a billing day of 31
gives periods starting Jan 31, Feb 28 (Feb 29 in a leap year), Mar 31, Apr 30, ...: the clamp
never drifts, because each boundary is computed from the anchor, not from the one before.

Calendar monthly billing is an anchor on the 1st of any month; anniversary billing is the
subscription's own start date. Periods are half-open: `start` is the first day billed, `end`
the first day of the next period, so consecutive periods tile time with no gap or overlap.

Pure: dates in, dates out; no clock, no time zone (billing dates are already local dates).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from billstream.core.errors import InvalidInputError

__all__ = ["BillingPeriod", "Cadence", "period_containing", "periods_between"]


class Cadence(StrEnum):
    """How often a charge is billed."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        """The length of one period in months: 1, 3 or 12."""
        return _MONTHS[self]


_MONTHS = {Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3, Cadence.ANNUAL: 12}


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """One billing period, half-open: from `start` (billed) up to `end` (not billed).

    >>> period = BillingPeriod(date(2028, 2, 1), date(2028, 3, 1))
    >>> period.days, period.contains(date(2028, 2, 29)), period.contains(date(2028, 3, 1))
    (29, True, False)
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInputError(
                f"a billing period must end after it starts ({self.start} to {self.end})",
                field="period",
            )

    @property
    def days(self) -> int:
        """The number of days billed: the real length, 28 to 31 for a month."""
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        """The last day billed (`end` is the first day of the next period)."""
        return date.fromordinal(self.end.toordinal() - 1)

    def contains(self, day: date) -> bool:
        """Whether `day` is billed in this period."""
        return self.start <= day < self.end


@lru_cache(maxsize=65_536)
def period_containing(day: date, *, anchor: date, cadence: Cadence) -> BillingPeriod:
    """The billing period of the cycle (`anchor`, `cadence`) in which `day` is billed.

    `day` may be before the anchor: the cycle extends both ways.

    Parameters
    ----------
    day : the date to place.
    anchor : the first day of any period of the cycle; its day of month is the billing day.
    cadence : monthly, quarterly or annual.

    Returns
    -------
    The period with `start <= day < end`.

    Examples
    --------
    Billing day 31 clamps to February's last day, and March starts on the 31st again:

    >>> period_containing(date(2028, 3, 15), anchor=date(2028, 1, 31), cadence=Cadence.MONTHLY)
    BillingPeriod(start=datetime.date(2028, 2, 29), end=datetime.date(2028, 3, 31))
    """
    step = cadence.months
    months_apart = _month_index(day) - _month_index(anchor)
    cycle = months_apart // step
    while _boundary(anchor, cycle * step) > day:
        cycle -= 1
    while _boundary(anchor, (cycle + 1) * step) <= day:
        cycle += 1
    return BillingPeriod(_boundary(anchor, cycle * step), _boundary(anchor, (cycle + 1) * step))


def periods_between(
    start: date, until: date, *, anchor: date, cadence: Cadence
) -> list[BillingPeriod]:
    """Every period of the cycle that overlaps the days `start` to `until`, both included.

    Empty when `until` is before `start`.

    Examples
    --------
    An anniversary on the 30th, from mid-January to the end of March:

    >>> [(p.start.isoformat(), p.end.isoformat()) for p in periods_between(
    ...     date(2027, 1, 15), date(2027, 3, 31), anchor=date(2026, 11, 30),
    ...     cadence=Cadence.MONTHLY)]
    [('2026-12-30', '2027-01-30'), ('2027-01-30', '2027-02-28'),
     ('2027-02-28', '2027-03-30'), ('2027-03-30', '2027-04-30')]
    """
    periods: list[BillingPeriod] = []
    day = start
    while day <= until:
        period = period_containing(day, anchor=anchor, cadence=cadence)
        periods.append(period)
        day = period.end
    return periods


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _boundary(anchor: date, months: int) -> date:
    """`anchor` moved by `months` months, its day clamped to the target month's length."""
    year, month0 = divmod(_month_index(anchor) + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(anchor.day, last))
