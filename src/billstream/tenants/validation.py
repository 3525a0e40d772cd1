"""Checks on tenant settings; each failure names the field and the reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from billstream.core.errors import InvalidInputError
from billstream.core.money import validate_currency
from billstream.tenants.invoice_numbers import parse_invoice_format

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def check_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise InvalidInputError(
            "a slug is 1-63 lowercase letters, digits or '-', starting with a letter or digit",
            field="slug",
        )
    return slug


def check_timezone(name: str, *, field: str = "timezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"{name!r} is not an IANA time zone", field=field) from None
    return name


def check_locale(name: str, *, field: str = "locale") -> str:
    try:
        return str(Locale.parse(name.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise InvalidInputError(f"{name!r} is not a known locale", field=field) from None


def check_invoice_format(fmt: str) -> str:
    """`fmt` if it parses in the invoice-number grammar (see `invoice_numbers`)."""
    parse_invoice_format(fmt)
    return fmt


def check_color(value: str, *, field: str) -> str:
    if not _COLOR.match(value):
        raise InvalidInputError("a colour is written #RRGGBB", field=field)
    return value.lower()


def check_line_precision(value: int) -> int:
    if not 0 <= value <= 6:
        raise InvalidInputError("line precision is between 0 and 6 places", field="line_precision")
    return value


PRORATION_BASES = ("actual_days", "thirty_day_month")


def check_proration_basis(value: str) -> str:
    if value not in PRORATION_BASES:
        raise InvalidInputError(
            "proration divides by the real period length (actual_days) or by a fixed "
            "30-day month (thirty_day_month)",
            field="proration_basis",
        )
    return value


CHECKS: dict[str, Callable[[Any], Any]] = {
    "currency": validate_currency,
    "timezone": check_timezone,
    "locale": check_locale,
    "invoice_format": check_invoice_format,
    "line_precision": check_line_precision,
    "proration_basis": check_proration_basis,
}
