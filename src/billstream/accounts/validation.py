"""Checks on account fields; each failure names the field and the reason."""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale

from billstream.accounts.kinds import BillingCycle
from billstream.core.errors import InvalidInputError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# CLDR territories with two letters that are not countries: groupings, pseudo-locales, unknown.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(
        code for code in codes if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


def check_country(code: str, *, field: str) -> str:
    normal = code.upper()
    if normal not in _countries():
        raise InvalidInputError(f"{code!r} is not an ISO 3166 country code", field=field)
    return normal


def check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise InvalidInputError(f"{value!r} is not an e-mail address", field="email")
    return value


def check_billing_day(cycle: str, day: int | None) -> int:
    """Calendar billing closes at month end, so its billing day is 1; anniversary: 1-31."""
    if cycle == BillingCycle.CALENDAR:
        if day not in (None, 1):
            raise InvalidInputError(
                "calendar billing starts each period on day 1; use anniversary for another day",
                field="billing_day",
            )
        return 1
    if day is None:
        raise InvalidInputError(
            "anniversary billing needs a billing day (1-31)", field="billing_day"
        )
    return day


def region_of_locale(locale: str) -> str | None:
    """The country part of a locale (``en_GB`` → ``GB``), used to read national numbers."""
    return Locale.parse(locale).territory
