"""Decimals as the API writes them: plain fixed-point strings, never an exponent.

`Decimal.normalize()` and PostgreSQL's NUMERIC give back values such as ``5E+1`` or
``2.305E+4``; JSON readers and spreadsheets take those for floats or refuse them. Every
response schema types its decimal fields `PlainDecimal`, which writes ``50``, ``23050`` and
``25.81`` (the value's own places, no exponent) and says so in the OpenAPI document
(``format: decimal`` with the pattern below).

>>> from pydantic import TypeAdapter
>>> TypeAdapter(PlainDecimal).dump_json(Decimal("2.305E+4"))
b'"23050"'
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

__all__ = ["DECIMAL_PATTERN", "PlainDecimal", "fixed_point", "plain"]

DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"


def fixed_point(value: Decimal) -> str:
    """`value` written without exponent; a zero has no sign.

    >>> fixed_point(Decimal("5E+1")), fixed_point(Decimal("-0.00")), fixed_point(Decimal("1E-7"))
    ('50', '0.00', '0.0000001')
    """
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite decimal")
    if value.is_zero():
        value = value.copy_abs()
    return format(value, "f")


def plain(value: Decimal) -> Decimal:
    """`value` without trailing zeros and without exponent, so `str` writes it plainly too
    (down to 1E-6, below which `str` always uses an exponent).

    >>> plain(Decimal("50.0000000000")), plain(Decimal("-1.50"))
    (Decimal('50'), Decimal('-1.5'))
    """
    text = fixed_point(value)  # not `normalize()`: it rounds to the context's 28 digits
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


PlainDecimal = Annotated[
    Decimal,
    PlainSerializer(fixed_point, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN},
        mode="serialization",
    ),
]
