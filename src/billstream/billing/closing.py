"""Which billing period of an account closes on a day, and what is due by then. Pure.

An account bills monthly on its cycle: calendar months, or its anniversary billing day
(29-31 clamp to a short month's last day). A bill run for local day D bills every paying
account whose period ends with D. Its invoice carries what is due by the close: recurring
lines in arrears for periods that ended by then, lines in advance for periods that start by
the next day (the coming period is billed ahead), one-time charges and fees dated by the next
day, and usage of the rating periods that ended by then; anything due earlier and not yet
invoiced (a late start, a late change) is carried with it.
"""

from __future__ import annotations

from datetime import date, timedelta

from billstream.core.periods import BillingPeriod, Cadence, period_containing
from billstream.subscriptions.charges import ChargeLine, LineKind
from billstream.subscriptions.cycles import billing_anchor

ONE_DAY = timedelta(days=1)


def closing_period(cycle: str, billing_day: int, day: date) -> BillingPeriod | None:
    """The account's monthly period that ends with `day`, or None if none does.

    >>> closing_period("calendar", 1, date(2026, 1, 31))
    BillingPeriod(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    >>> closing_period("anniversary", 31, date(2026, 2, 27))   # day 31 clamps to Feb 28
    BillingPeriod(start=datetime.date(2026, 1, 31), end=datetime.date(2026, 2, 28))
    >>> closing_period("anniversary", 15, date(2026, 2, 13)) is None
    True
    """
    anchor = billing_anchor(cycle, billing_day, day)
    period = period_containing(day, anchor=anchor, cadence=Cadence.MONTHLY)
    return period if period.end == day + ONE_DAY else None


def due_by(line: ChargeLine, close: date) -> bool:
    """Whether a subscription line is due on the invoice of a period closing on `close`.

    The charge engine is asked up to the day after the close (so that advance periods starting then
    are in it); arrears lines of a period that has not ended by the close stay for later.
    """
    if line.kind in (LineKind.RECURRING, LineKind.CREDIT) and line.timing != "advance":
        return line.period.end <= close + ONE_DAY
    return True
