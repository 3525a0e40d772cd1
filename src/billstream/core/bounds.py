"""Bounded input types for schemas, on the figures of `core.limits` (docs/api.md, "Bounds").

Every number and date that comes in (the API, the catalogue document, the CLI) is typed with
one of these, so nothing stored can break a later computation. The figures and checks
themselves are `core.limits`' (pure, no Pydantic).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from billstream.core.decimals import PlainDecimal
from billstream.core.iso8601 import refuse_timestamp
from billstream.core.limits import (
    MAX_ALLOWANCE,
    MAX_AMOUNT,
    MAX_DECIMAL_PLACES,
    MAX_PERCENT,
    MAX_QUANTITY,
    MAX_RATE,
    MAX_USAGE_SECONDS,
    check_day,
)

__all__ = ["Allowance", "Amount", "Day", "Percent", "Quantity", "Rate", "Seconds"]


def _bounded_day(day: date) -> date:
    return check_day(day)


Day = Annotated[date, BeforeValidator(refuse_timestamp), AfterValidator(_bounded_day)]
"""A date as input: ISO 8601 text, within `MIN_DATE` .. `MAX_DATE`."""

# The decimal bounds are `PlainDecimal`s: a schema that reads a value and writes it back
# (a catalogue's prices, a subscription's quantity) writes it without exponent.

Quantity = Annotated[
    PlainDecimal,
    Field(ge=0, le=MAX_QUANTITY, decimal_places=MAX_DECIMAL_PLACES, allow_inf_nan=False),
]
"""A count of units (seats, lines, a tier's bound): 0 to `MAX_QUANTITY`."""

Amount = Annotated[
    PlainDecimal,
    Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False),
]
"""An amount of money as input (a price, fee, credit): 0 to `MAX_AMOUNT`."""

Rate = Annotated[
    PlainDecimal,
    Field(ge=0, le=MAX_RATE, allow_inf_nan=False),
]
"""A usage rate per minute or per unit: 0 to `MAX_RATE`."""

Percent = Annotated[
    PlainDecimal,
    Field(ge=0, le=MAX_PERCENT, allow_inf_nan=False),
]
"""A percentage (of a base amount, a discount or fee): 0 to `MAX_PERCENT`."""

Allowance = Annotated[
    PlainDecimal,
    Field(ge=0, le=MAX_ALLOWANCE, allow_inf_nan=False),
]
"""Usage units included in a plan each period (minutes, messages, bytes): 0 to `MAX_ALLOWANCE`."""

Seconds = Annotated[int, Field(ge=0, le=MAX_USAGE_SECONDS)]
"""A duration in whole seconds (a rounding rule's step): 0 to `MAX_USAGE_SECONDS`."""
