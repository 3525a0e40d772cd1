"""Whether a bill run can bill a price where the catalogue puts it. Pure.

Checked when a catalogue is applied, so that a price no bill run could bill is refused then,
naming its path, instead of failing every preview and bill run of the accounts that buy it.
Today that concerns `percentage` prices: a bill run prices one on its base, the amounts of
other recurring charges of the same plan billed with the same timing and cadence (so of the
same period), ``usage``, the rated usage amount of the subscription's account in the
period, or ``events``, each of its rated records (per-event fees): the usage is known when
the period ends, so these are billed in arrears.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from billstream.catalog.price_models import EVENTS, USAGE, Percentage, PriceModel

__all__ = ["ChargeShape", "unbillable"]

RECURRING = "recurring"
ARREARS = "arrears"


@dataclass(frozen=True, slots=True)
class ChargeShape:
    """A plan charge as the check needs it."""

    code: str
    product_kind: str
    timing: str
    cadence: str
    percentage: bool  # one of its prices is a percentage


def unbillable(
    model: PriceModel, charge: ChargeShape | None, plan: Mapping[str, ChargeShape]
) -> tuple[str, str] | None:
    """Why a bill run could not bill `model` as a price of `charge` of a plan whose charges
    are `plan` (by code): (the field under the model, the reason), or None if it can.

    `charge` is None for a price of a product in every plan (a price list's, or a brand's or
    customer's product-wide price).

    >>> numbers = ChargeShape("numbers", "recurring", "advance", "monthly", False)
    >>> care = ChargeShape("care", "recurring", "advance", "monthly", True)
    >>> plan = {"numbers": numbers, "care": care}
    >>> unbillable(Percentage(percent=10, of="numbers"), care, plan) is None
    True
    >>> unbillable(Percentage(percent=10, of="usage"), care, plan)[1].endswith("billed advance")
    True
    >>> arrears = ChargeShape("surcharge", "recurring", "arrears", "monthly", True)
    >>> unbillable(Percentage(percent=5, of="usage"), arrears, plan) is None
    True
    """
    if not isinstance(model, Percentage):
        return None
    if charge is None:
        return "type", "a percentage goes on a plan's charge, whose plan names its base charges"
    if charge.product_kind != RECURRING:
        return (
            "type",
            f"a percentage is billed on a recurring charge, not a {charge.product_kind} one",
        )
    if model.of_usage or model.per_event:
        if charge.timing != ARREARS:
            return "of", (
                f"a percentage of {model.bases[0]} is billed in arrears (the period's usage is "
                f"known when it ends), and charge {charge.code!r} is billed {charge.timing}"
            )
        return None
    if USAGE in model.bases:
        return "of", "usage is a base on its own (of: usage), not one of a list of charges"
    if EVENTS in model.bases:
        return "of", "events are a base on their own (of: events), not one of a list of charges"
    for code in model.bases:
        reason = _base_problem(code, charge, plan.get(code))
        if reason:
            return "of", reason
    return None


def _base_problem(code: str, charge: ChargeShape, base: ChargeShape | None) -> str | None:
    if base is None:
        return (
            f"the plan has no charge {code!r} (a percentage names the plan's charges it applies to)"
        )
    if base.code == charge.code:
        return f"charge {code!r} cannot be a percentage of itself"
    if base.percentage:
        return f"charge {code!r} is itself a percentage"
    if base.product_kind != RECURRING or (base.timing, base.cadence) != (
        charge.timing,
        charge.cadence,
    ):
        return (
            f"charge {code!r} must be a recurring charge billed {charge.timing} "
            f"{charge.cadence}, as this one is"
        )
    return None
