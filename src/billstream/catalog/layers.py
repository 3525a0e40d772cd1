"""Which price a charge pays: the most specific layer with a version in force.

Pure: candidates in, one resolved price out. The layers, from least to most specific:

    default   the price list of a tenant (the nearest tenant on the chain wins)
    plan      the plan's price for the charge (a commitment price beats it while committed)
    brand     the price for one brand (tenant) of the tree
    customer  a special price for one account

Within a layer a candidate's `specificity` breaks ties (a price scoped to the plan beats a
product-wide one; a nearer tenant beats a farther one), then the version with the latest
`effective_from` on or before the service date wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from billstream.catalog.adjustments import Adjustment
from billstream.catalog.price_models import PriceModel


class PriceLayer(StrEnum):
    DEFAULT = "default"
    PLAN = "plan"
    BRAND = "brand"
    CUSTOMER = "customer"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {PriceLayer.DEFAULT: 0, PriceLayer.PLAN: 1, PriceLayer.BRAND: 2, PriceLayer.CUSTOMER: 3}


@dataclass(frozen=True, slots=True)
class PriceCandidate:
    """One stored price version that may apply to a charge."""

    price_id: str
    layer: PriceLayer
    currency: str
    effective_from: date
    model: PriceModel
    adjustments: tuple[Adjustment, ...] = ()
    specificity: tuple[int, ...] = ()
    commitment: bool = False


@dataclass(frozen=True, slots=True)
class ResolvedPrice:
    """The price a charge pays, and where it came from."""

    model: PriceModel
    adjustments: tuple[Adjustment, ...]
    layer: PriceLayer
    price_id: str
    effective_from: date
    currency: str
    commitment: bool = False


def _preference(candidate: PriceCandidate) -> tuple[object, ...]:
    return (
        candidate.layer.rank,
        candidate.specificity,
        candidate.commitment,
        candidate.effective_from,
        candidate.price_id,  # only to be deterministic; series make real ties impossible
    )


def resolve_price(
    candidates: Sequence[PriceCandidate], *, on: date, currency: str, commitment: bool = False
) -> ResolvedPrice | None:
    """The price in force on `on` in `currency`, or None if no candidate is.

    Commitment prices count only when `commitment` is true (the subscription is within its
    commitment); then they beat the other prices of their layer.

    >>> from decimal import Decimal
    >>> from billstream.catalog.price_models import PerUnit
    >>> five = PerUnit(type="per_unit", unit_price=Decimal("5.00"))
    >>> four = PerUnit(type="per_unit", unit_price=Decimal("4.00"))
    >>> prices = [
    ...     PriceCandidate("p1", PriceLayer.PLAN, "USD", date(2026, 1, 1), five),
    ...     PriceCandidate("p2", PriceLayer.CUSTOMER, "USD", date(2026, 3, 1), four),
    ... ]
    >>> resolve_price(prices, on=date(2026, 2, 1), currency="USD").layer
    <PriceLayer.PLAN: 'plan'>
    >>> resolve_price(prices, on=date(2026, 3, 1), currency="USD").layer
    <PriceLayer.CUSTOMER: 'customer'>
    """
    in_force = [
        c
        for c in candidates
        if c.currency == currency and c.effective_from <= on and (commitment or not c.commitment)
    ]
    if not in_force:
        return None
    best = max(in_force, key=_preference)
    return ResolvedPrice(
        model=best.model,
        adjustments=best.adjustments,
        layer=best.layer,
        price_id=best.price_id,
        effective_from=best.effective_from,
        currency=best.currency,
        commitment=best.commitment,
    )
