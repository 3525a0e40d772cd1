"""Decimals as the API writes them: fixed-point, exact, never an exponent."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billstream.core.decimals import DECIMAL_PATTERN, fixed_point, plain


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_every_finite_decimal_is_written_fixed_point_and_reads_back_exactly(value: Decimal) -> None:
    text = fixed_point(value)
    assert re.fullmatch(DECIMAL_PATTERN, text)
    assert Decimal(text) == value
    assert plain(value) == value
    if value.is_zero() or value.adjusted() >= -6:  # `str` writes smaller ones with an exponent
        assert "E" not in str(plain(value))
