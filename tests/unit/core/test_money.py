"""Money: exact arithmetic, half-up rounding at named points, no floats, no mixed currencies."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.core.errors import InvalidInputError
from billstream.core.money import (
    Money,
    minor_unit,
    quantize,
    round_half_up,
    round_line,
    round_micros,
    tidy,
    to_micros,
)

UNIT_SETTINGS = settings(max_examples=200)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


# --- construction ------------------------------------------------------------------------


def test_amounts_are_decimal_whatever_exact_type_they_are_given_as() -> None:
    assert Money.of("12.30", "usd") == Money(Decimal("12.30"), "USD")
    assert Money.of(7, "EUR").amount == Decimal(7)


@pytest.mark.parametrize("amount", [0.1, 1.0, float("nan")])
def test_a_float_amount_is_refused(amount: float) -> None:
    with pytest.raises(TypeError, match="not float"):
        Money(amount, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not float"):
        Money.of(amount, "USD")  # type: ignore[arg-type]


def test_multiplying_by_a_float_is_refused() -> None:
    with pytest.raises(TypeError, match="not float"):
        usd("10.00") * 1.5  # type: ignore[operator]


def test_a_bool_amount_is_refused() -> None:
    with pytest.raises(TypeError, match="not bool"):
        Money.of(True, "USD")


def test_a_non_finite_amount_is_refused_naming_the_amount() -> None:
    with pytest.raises(InvalidInputError) as raised:
        Money(Decimal("Infinity"), "USD")
    assert raised.value.field == "amount"


def test_an_unknown_currency_is_refused_naming_the_currency() -> None:
    with pytest.raises(InvalidInputError) as raised:
        Money.of("1", "XYZ")
    assert raised.value.field == "currency"


# --- arithmetic ----------------------------------------------------------------------------


def test_arithmetic_is_exact() -> None:
    assert usd("0.1") + usd("0.2") == usd("0.3")
    assert usd("10.00") - usd("0.01") == usd("9.99")
    assert -usd("5.5") == usd("-5.5")
    assert usd("19.99") * 3 == usd("59.97")
    assert 3 * usd("19.99") == usd("59.97")
    assert usd("0.125") * Decimal("0.5") == usd("0.0625")


def test_total_sums_items_and_the_total_of_nothing_is_zero() -> None:
    assert Money.total([usd("1.10"), usd("2.20"), usd("3.30")], "USD") == usd("6.60")
    assert Money.total([], "JPY") == Money.zero("JPY")
    assert Money.zero("JPY").is_zero()


def test_comparisons_within_one_currency() -> None:
    assert usd("1.00") < usd("1.01") <= usd("1.01")
    assert usd("2") > usd("1.99") >= usd("1.99")


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_mixing_currencies_is_refused_naming_the_currency(combine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError) as raised:
        combine(usd("1.00"), Money.of("1.00", "EUR"))
    assert raised.value.field == "currency"
    assert raised.value.detail == "cannot combine USD with EUR"


def test_total_refuses_an_item_in_another_currency() -> None:
    with pytest.raises(InvalidInputError) as raised:
        Money.total([usd("1"), Money.of("1", "GBP")], "USD")
    assert raised.value.field == "currency"


def test_adding_a_plain_number_is_refused() -> None:
    with pytest.raises(TypeError):
        usd("1") + Decimal(1)  # type: ignore[operator]


# --- rounding ------------------------------------------------------------------------------


def test_minor_units_come_from_iso_4217() -> None:
    assert (minor_unit("USD"), minor_unit("JPY"), minor_unit("BHD")) == (2, 0, 3)


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("1.005", "USD", "1.01"),
        ("1.004", "USD", "1.00"),
        ("-1.005", "USD", "-1.01"),
        ("2.675", "USD", "2.68"),
        ("2.5", "JPY", "3"),
        ("1.4999", "JPY", "1"),
        ("-2.5", "JPY", "-3"),
        ("1.0005", "BHD", "1.001"),
        ("1.0004", "BHD", "1.000"),
    ],
)
def test_round_is_half_up_to_the_currency_minor_unit(
    amount: str, currency: str, rounded: str
) -> None:
    result = Money.of(amount, currency).round()
    assert result == Money.of(rounded, currency)
    assert str(result.amount) == rounded  # the exponent is the minor unit, too


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [("1.23455", "1.2346"), ("1.23454", "1.2345"), ("-0.00005", "-0.0001"), ("7", "7.0000")],
)
def test_round_line_is_half_up_to_a_given_precision(amount: str, rounded: str) -> None:
    result = round_line(usd(amount), 4)
    assert str(result.amount) == rounded


def test_round_line_defaults_to_the_minor_unit() -> None:
    assert str(round_line(Money.of("99.995", "USD")).amount) == "100.00"
    assert str(round_line(Money.of("99.5", "JPY")).amount) == "100"


def test_quantize_is_half_up() -> None:
    assert quantize(Decimal("0.125"), 2) == Decimal("0.13")
    assert quantize(Decimal("0.135"), 2) == Decimal("0.14")  # not banker's rounding


# --- properties ----------------------------------------------------------------------------

cents = st.integers(min_value=-(10**12), max_value=10**12)


@UNIT_SETTINGS
@given(amounts=st.lists(cents, max_size=50))
def test_sums_of_money_conserve_every_cent(amounts: list[int]) -> None:
    # given amounts in cents, as Money
    items = [Money(Decimal(a).scaleb(-2), "USD") for a in amounts]
    # when summed
    total = Money.total(items, "USD")
    # then not a cent is gained or lost, whatever the order
    assert total.amount == Decimal(sum(amounts)).scaleb(-2)
    assert Money.total(reversed(items), "USD") == total


@given(st.integers(min_value=-(10**15), max_value=10**15), st.integers(min_value=0, max_value=8))
def test_rounding_micro_units_in_integers_equals_the_exact_rounding(
    micros: int, places: int
) -> None:
    assert round_micros(micros, places) == round_half_up(Fraction(micros, 10**6), places)


def test_to_micros_and_tidy() -> None:
    assert to_micros(Decimal("0.000001")) == 1
    with pytest.raises(ValueError, match="6 decimal places"):
        to_micros(Decimal("0.0000001"))
    assert str(tidy(Decimal("25.8100000000"), "USD")) == "25.81"
    assert str(tidy(Decimal("3"), "JPY")) == "3"
