"""Sequential discounts and fees: each adjustment applies to what the one before left.

A price may carry an ordered list of adjustments, each a percentage or a fixed amount, each
a discount (down) or a fee (up). They compound: $100 with a 10% then a 5% discount is
100 x 0.90 x 0.95 = $85.50, not $85.00 (SPEC C3). Nothing is rounded here; the caller rounds
the line once. A fixed discount never takes the balance below zero.

The `Adjustment` model is also the shape of the catalogue file and the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from billstream.core.decimals import PlainDecimal

__all__ = ["Adjustment", "AdjustmentStep", "apply_adjustments"]

NonNegative = Annotated[PlainDecimal, Field(ge=0)]


class Adjustment(BaseModel):
    """A discount or a fee: `percent` of the balance, or a fixed `amount` (exactly one).

    >>> Adjustment(kind="discount", percent=Decimal(10))
    Adjustment(kind='discount', percent=Decimal('10'), amount=None)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["discount", "fee"]
    percent: NonNegative | None = None
    amount: Annotated[NonNegative | None, Field(validate_default=True)] = None

    @field_validator("percent")
    @classmethod
    def _discount_at_most_everything(
        cls, percent: Decimal | None, info: ValidationInfo
    ) -> Decimal | None:
        if percent is not None and percent > 100 and info.data.get("kind") == "discount":
            raise ValueError(f"a discount cannot exceed 100%, got {percent}%")
        return percent

    @field_validator("amount")
    @classmethod
    def _exactly_one_of_percent_or_amount(
        cls, amount: Decimal | None, info: ValidationInfo
    ) -> Decimal | None:
        if "percent" not in info.data:  # percent itself was invalid: already reported
            return amount
        if (info.data["percent"] is None) == (amount is None):
            raise ValueError("give exactly one of percent or amount")
        return amount


@dataclass(frozen=True)
class AdjustmentStep:
    """One adjustment applied: the balance `before`, the signed `change`, the balance `after`."""

    adjustment: Adjustment
    before: Decimal
    change: Decimal
    after: Decimal


def apply_adjustments(amount: Decimal, adjustments: Sequence[Adjustment]) -> list[AdjustmentStep]:
    """Apply `adjustments` in order, each to the balance the previous one left.

    Parameters
    ----------
    amount : the amount before any adjustment (unrounded).
    adjustments : in the order they apply.

    Returns
    -------
    One step per adjustment; the last step's `after` is the adjusted amount (`amount` itself
    when there are none).

    Examples
    --------
    >>> steps = apply_adjustments(Decimal(100), [Adjustment(kind="discount", percent=Decimal(10)),
    ...                                          Adjustment(kind="discount", percent=Decimal(5))])
    >>> [(s.change, s.after) for s in steps]
    [(Decimal('-10'), Decimal('90')), (Decimal('-4.5'), Decimal('85.5'))]
    """
    steps: list[AdjustmentStep] = []
    balance = amount
    for adjustment in adjustments:
        change = _change(adjustment, balance)
        steps.append(AdjustmentStep(adjustment, balance, change, balance + change))
        balance += change
    return steps


def _change(adjustment: Adjustment, balance: Decimal) -> Decimal:
    sign = -1 if adjustment.kind == "discount" else 1
    if adjustment.percent is not None:
        return sign * balance * adjustment.percent / 100
    fixed = adjustment.amount if adjustment.amount is not None else Decimal(0)
    if adjustment.kind == "discount":
        return -min(fixed, max(balance, Decimal(0)))
    return fixed
