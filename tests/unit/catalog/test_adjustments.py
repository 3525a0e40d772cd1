"""Sequential discounts and fees: SPEC C3's 85.50 and 89.83, order, the zero floor, validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from billstream.catalog.adjustments import Adjustment, AdjustmentStep, apply_adjustments
from billstream.core.money import round_half_up

UNIT_SETTINGS = settings(max_examples=300)


def discount(percent: str | None = None, amount: str | None = None) -> Adjustment:
    return Adjustment(
        kind="discount",
        percent=None if percent is None else Decimal(percent),
        amount=None if amount is None else Decimal(amount),
    )


def fee(percent: str | None = None, amount: str | None = None) -> Adjustment:
    return Adjustment(
        kind="fee",
        percent=None if percent is None else Decimal(percent),
        amount=None if amount is None else Decimal(amount),
    )


def adjusted(amount: str, *items: Adjustment) -> Decimal:
    steps = apply_adjustments(Decimal(amount), items)
    return steps[-1].after if steps else Decimal(amount)


# --- SPEC C3 ------------------------------------------------------------------------------------


def test_spec_two_discounts_compound_to_85_50() -> None:
    # given $100, when discounted 10% then 5%
    steps = apply_adjustments(Decimal("100.00"), [discount("10"), discount("5")])
    # then each applies to what the one before left: 100 x 0.90 x 0.95, not 100 x 0.85
    assert [(s.before, s.change, s.after) for s in steps] == [
        (Decimal("100.00"), Decimal("-10.00"), Decimal("90.00")),
        (Decimal("90.00"), Decimal("-4.50"), Decimal("85.50")),
    ]
    assert round_half_up(steps[-1].after, 2) == Decimal("85.50")


def test_spec_two_fees_compound_to_89_83() -> None:
    # given $85.50, when a 3% fee then a 2% fee are added
    amount = adjusted("85.50", fee("3"), fee("2"))
    # then 85.50 x 1.03 x 1.02 = 89.8263, rounded once to 89.83
    assert amount == Decimal("89.8263")
    assert round_half_up(amount, 2) == Decimal("89.83")


def test_spec_discounts_then_fees_in_one_list() -> None:
    amount = adjusted("100.00", discount("10"), discount("5"), fee("3"), fee("2"))
    assert amount == Decimal("89.8263")


# --- fixed amounts, order, and the zero floor ---------------------------------------------------


def test_a_fixed_discount_and_a_fixed_fee() -> None:
    assert adjusted("100", discount(amount="15")) == Decimal(85)
    assert adjusted("100", fee(amount="2.50")) == Decimal("102.50")


def test_the_order_of_adjustments_matters() -> None:
    # a fixed $10 off then 10% off: (100 - 10) x 0.90 = 81; the other way round: 90 - 10 = 80
    assert adjusted("100", discount(amount="10"), discount("10")) == Decimal(81)
    assert adjusted("100", discount("10"), discount(amount="10")) == Decimal(80)


def test_a_fixed_discount_never_takes_the_balance_below_zero() -> None:
    steps = apply_adjustments(Decimal(30), [discount(amount="50"), discount(amount="5"), fee("10")])
    assert [(s.change, s.after) for s in steps] == [
        (Decimal(-30), Decimal(0)),
        (Decimal(0), Decimal(0)),
        (Decimal(0), Decimal(0)),
    ]


def test_a_full_discount_leaves_nothing() -> None:
    assert adjusted("49.99", discount("100")) == Decimal(0)


def test_a_fee_may_exceed_100_percent() -> None:
    assert adjusted("10", fee("150")) == Decimal(25)


def test_no_adjustments_no_steps() -> None:
    assert apply_adjustments(Decimal(10), []) == []


def test_each_step_keeps_its_adjustment() -> None:
    ten = discount("10")
    assert apply_adjustments(Decimal(10), [ten]) == [
        AdjustmentStep(ten, Decimal(10), Decimal(-1), Decimal(9))
    ]


# --- validation -----------------------------------------------------------------------------


def locations(document: dict[str, Any]) -> list[tuple[int | str, ...]]:
    with pytest.raises(ValidationError) as raised:
        Adjustment.model_validate(document)
    return [tuple(error["loc"]) for error in raised.value.errors()]


@pytest.mark.parametrize(
    ("document", "location"),
    [
        ({"kind": "discount", "percent": "10", "amount": "5"}, ("amount",)),  # both
        ({"kind": "discount"}, ("amount",)),  # neither
        ({"kind": "fee", "percent": None, "amount": None}, ("amount",)),
        ({"kind": "discount", "percent": "-5"}, ("percent",)),
        ({"kind": "discount", "percent": "100.01"}, ("percent",)),
        ({"kind": "fee", "amount": "-1"}, ("amount",)),
        ({"kind": "rebate", "percent": "5"}, ("kind",)),
        ({"kind": "fee", "percent": "5", "note": "x"}, ("note",)),
    ],
)
def test_bad_adjustments_are_refused_naming_the_field(
    document: dict[str, Any], location: tuple[int | str, ...]
) -> None:
    assert locations(document) == [location]


def test_both_or_neither_says_what_to_give() -> None:
    with pytest.raises(ValidationError, match="exactly one of percent or amount"):
        Adjustment.model_validate({"kind": "fee", "percent": "1", "amount": "1"})


def test_an_adjustment_is_frozen_and_round_trips_through_json() -> None:
    ten = discount("10")
    with pytest.raises(ValidationError):
        ten.percent = Decimal(5)  # type: ignore[misc]
    assert Adjustment.model_validate(ten.model_dump(mode="json")) == ten


# --- properties -----------------------------------------------------------------------------

percents = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)
amounts = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)
adjustment_lists = st.lists(
    st.one_of(
        st.builds(Adjustment, kind=st.sampled_from(["discount", "fee"]), percent=percents),
        st.builds(Adjustment, kind=st.sampled_from(["discount", "fee"]), amount=amounts),
    ),
    max_size=6,
)


@UNIT_SETTINGS
@given(start=amounts, items=adjustment_lists)
def test_steps_chain_and_never_go_below_zero(start: Decimal, items: list[Adjustment]) -> None:
    steps = apply_adjustments(start, items)
    balance = start
    for step in steps:
        assert step.before == balance
        assert step.after == step.before + step.change
        assert step.after >= 0
        # a discount never raises the balance, a fee never lowers it
        assert step.change <= 0 if step.adjustment.kind == "discount" else step.change >= 0
        balance = step.after
    assert len(steps) == len(items)


@UNIT_SETTINGS
@given(start=amounts, first=percents, second=percents)
def test_percentage_discounts_compound_whatever_their_order(
    start: Decimal, first: Decimal, second: Decimal
) -> None:
    one_way = adjusted(str(start), discount(str(first)), discount(str(second)))
    other_way = adjusted(str(start), discount(str(second)), discount(str(first)))
    assert one_way == other_way == start * (1 - first / 100) * (1 - second / 100)
