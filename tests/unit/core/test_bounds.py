"""The shared bounds (`core.bounds`) and the core functions that used to overflow on input
beyond them (issue 17): each refusal is an `OutOfBoundsError` naming the field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from billstream.core.bounds import Amount, Day, Quantity
from billstream.core.errors import InvalidInputError
from billstream.core.limits import MAX_DATE, MIN_DATE, OutOfBoundsError, check_day, ensure_utc
from billstream.core.money import Money, quantize
from billstream.rating.rater import RoundingRules

PLUS_5 = timezone(timedelta(hours=5))
MINUS_5 = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    "instant",
    [
        datetime(1, 1, 1, tzinfo=PLUS_5),
        datetime(9999, 12, 31, 23, tzinfo=MINUS_5),
        datetime(1899, 12, 31, 23, 59, tzinfo=UTC),
        datetime(9900, 1, 1, tzinfo=UTC),
    ],
)
def test_ensure_utc_refuses_an_instant_out_of_bounds_instead_of_overflowing(
    instant: datetime,
) -> None:
    with pytest.raises(OutOfBoundsError) as refused:
        ensure_utc(instant, field="at")
    assert refused.value.field == "at"
    assert "1900-01-01 to 9899-12-31" in refused.value.detail


def test_ensure_utc_converts_the_extreme_instants_it_accepts() -> None:
    first = datetime(1900, 1, 1, tzinfo=PLUS_5)
    last = datetime(9899, 12, 31, 23, tzinfo=MINUS_5)
    assert ensure_utc(first) == datetime(1899, 12, 31, 19, tzinfo=UTC)
    assert ensure_utc(last) == datetime(9900, 1, 1, 4, tzinfo=UTC)


def test_the_date_bounds_are_inclusive() -> None:
    assert check_day(MIN_DATE) == date(1900, 1, 1)
    assert check_day(MAX_DATE) == date(9899, 12, 31)
    with pytest.raises(OutOfBoundsError):
        check_day(MAX_DATE + timedelta(days=1), field="until")


class Order(BaseModel):
    quantity: Quantity
    price: Amount
    day: Day


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"quantity": "1e999999"}, "quantity"),
        ({"quantity": 10**29}, "quantity"),
        ({"quantity": "10000000.0000000001"}, "quantity"),
        ({"quantity": "0.00000000001"}, "quantity"),
        ({"price": "1e999999"}, "price"),
        ({"price": "10000000000.01"}, "price"),
        ({"price": "-0.01"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"day": "9999-12-31"}, "day"),
        ({"day": "0001-01-01"}, "day"),
    ],
)
def test_the_bounded_types_refuse_values_out_of_bounds(
    values: dict[str, object], field: str
) -> None:
    good = {"quantity": "10000000", "price": "10000000000", "day": "2026-01-31"}
    assert Order.model_validate(good).quantity == Decimal(10**7)
    with pytest.raises(ValidationError) as refused:
        Order.model_validate({**good, **values})
    assert [e["loc"] for e in refused.value.errors()] == [(field,)]


@pytest.mark.parametrize("amount", ["1e999999", "-1e18", "1e18"])
def test_money_refuses_an_amount_beyond_what_is_kept(amount: str) -> None:
    with pytest.raises(OutOfBoundsError) as refused:
        Money.of(amount, "USD")
    assert refused.value.field == "amount"
    assert isinstance(refused.value, InvalidInputError)


def test_money_keeps_the_largest_amount_and_rounds_it() -> None:
    largest = Money.of("99999999999999999.9999999999", "USD")
    assert largest.round().amount == Decimal("100000000000000000.00")


def test_quantize_refuses_an_amount_too_large_for_its_places() -> None:
    with pytest.raises(OutOfBoundsError) as refused:
        quantize(Decimal("1e30"), 2)
    assert refused.value.field == "amount"


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"first_s": 2**64, "next_s": 1}, "first_s"),
        ({"first_s": 60, "next_s": 10**6 + 1}, "next_s"),
        ({"first_s": 60, "next_s": 0}, "next_s"),
        ({"first_s": 60, "next_s": 1, "free_below_s": 2**63}, "free_below_s"),
    ],
)
def test_rounding_rules_refuse_seconds_out_of_bounds(rules: dict[str, int], field: str) -> None:
    with pytest.raises(OutOfBoundsError) as refused:
        RoundingRules(**rules)
    assert refused.value.field == field
