"""The largest (and earliest, and latest) values billstream accepts, in one place, and
their checks. Pure: `core.bounds` builds the schemas' bounded input types on them, and
the clock checks instants here without importing Pydantic (`billstream --help` stays light).

Every number and date that comes in (the API, the catalogue document, the CLI, CDR files
and usage events) is checked against these bounds at the edge, so that nothing stored can
break a later computation: a quantity of ``1e999999`` accepted today would fail every bill
run of its account afterwards. docs/api.md ("Bounds") lists them with the reasons.

Why these figures:

- Money is stored as NUMERIC(28, 10): at most 18 digits before the point. A charge is a unit
  amount times a quantity, so `MAX_AMOUNT` (10^10) x `MAX_QUANTITY` (10^7) = 10^17 leaves a
  factor of ten for the sums of many lines on one invoice. `Decimal`'s default context
  (28 significant digits) then holds every line rounded to up to 10 places.
- Rating works in int64 micro-units (at most 9.2 x 10^18): a rate of at most `MAX_RATE`
  (10^6 per minute or unit, i.e. 10^12 micro-units) times a duration of at most
  `MAX_USAGE_SECONDS` (10^6 s, 11.5 days: switches close long calls and sessions in
  partial records well before that) is at most 10^18.
- Dates: Python's `date` ends at 9999-12-31 and starts at 0001-01-01. Billing steps a year
  or two past a date (a yearly period, a commitment of up to 240 months = 20 years) and 400
  days before one (a bill run's look-back), and an instant's offset moves it up to a day.
  Dates from `MIN_DATE` (1900-01-01) to `MAX_DATE` (9899-12-31) keep every one of those steps
  far inside the range; no billing date is outside them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from billstream.core.errors import InvalidInputError

__all__ = [
    "MAX_ALLOWANCE",
    "MAX_AMOUNT",
    "MAX_DATE",
    "MAX_DECIMAL_PLACES",
    "MAX_MONEY",
    "MAX_PERCENT",
    "MAX_PREVIEW_YEARS",
    "MAX_QUANTITY",
    "MAX_RATE",
    "MAX_USAGE_SECONDS",
    "MAX_USAGE_TOTAL",
    "MIN_DATE",
    "OutOfBoundsError",
    "check_day",
    "check_instant",
]

MAX_MONEY = Decimal(10) ** 18  # any `Money`, computed or not: NUMERIC(28, 10)'s 18 digits
MAX_AMOUNT = Decimal(10) ** 10  # a price, fee, tier price or credit, in major units
MAX_QUANTITY = Decimal(10) ** 7  # a subscription's quantity, a tier's bound, a block size
MAX_RATE = Decimal(10) ** 6  # a usage rate per minute or per unit
MAX_PERCENT = Decimal(1000)  # a percentage price or adjustment (a discount stops at 100)
MAX_USAGE_TOTAL = 10**15  # usage units of a period: a petabyte, in bytes (tiers' bounds)
MAX_ALLOWANCE = Decimal(MAX_USAGE_TOTAL)  # usage units included in a plan each period
MAX_DECIMAL_PLACES = 10  # a stored quantity: what NUMERIC(28, 10) keeps (prices are JSON)
MAX_USAGE_SECONDS = 10**6  # one usage record's duration; rounding-rule steps too
MAX_PREVIEW_YEARS = 100  # an upcoming-charges preview, from the first subscription start
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(9899, 12, 31)


class OutOfBoundsError(InvalidInputError, ValueError):
    """A value outside billstream's bounds (a 422). Also a `ValueError`, so that a Pydantic
    validator raising it reports it at the field where it was found."""


def check_day(day: date, *, field: str | None = None) -> date:
    """`day` if it lies between `MIN_DATE` and `MAX_DATE`, else `OutOfBoundsError`.

    >>> check_day(date(2026, 1, 31))
    datetime.date(2026, 1, 31)
    """
    if not MIN_DATE <= day <= MAX_DATE:
        raise OutOfBoundsError(
            f"{day.isoformat()} is outside the dates billstream accepts "
            f"({MIN_DATE.isoformat()} to {MAX_DATE.isoformat()})",
            field=field,
        )
    return day


def check_instant(instant: datetime, *, field: str | None = None) -> datetime:
    """`instant` if its own wall-clock date lies between `MIN_DATE` and `MAX_DATE`.

    Checked before any conversion: converting 9999-12-31T23:00-05:00 to UTC overflows.
    """
    check_day(instant.date(), field=field)
    return instant


def ensure_utc(instant: datetime, *, field: str | None = None) -> datetime:
    """Refuse naive datetimes and those outside billstream's dates (`OutOfBoundsError`, checked
    before the conversion, which overflows at year 1 or 9999); convert aware ones to UTC."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()} has no time zone")
    return check_instant(instant, field=field).astimezone(UTC)
