"""Dates and instants come in as ISO 8601 text, never as numbers.

Pydantic reads a number (``0``, ``"1767225600.5"``) given for a date or a datetime as a Unix
timestamp; the OpenAPI document says ``format: date`` / ``date-time``, and docs/api.md says an
instant carries its offset. A number is refused, naming the field, before Pydantic reads it.
"""

from __future__ import annotations

import re
from numbers import Number

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def refuse_timestamp(value: object) -> object:
    """`value` unchanged, unless it is a number (or the text of one): `ValueError`.

    >>> refuse_timestamp("2026-01-31")
    '2026-01-31'
    """
    if isinstance(value, Number) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("give an ISO 8601 date or instant, e.g. 2026-01-31 or 2026-01-31T00:00Z")
    return value
