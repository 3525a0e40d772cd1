"""Which price a charge pays: the most specific layer with a version in force on the day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billstream.catalog.adjustments import Adjustment
from billstream.catalog.layers import PriceCandidate, PriceLayer, resolve_price
from billstream.catalog.price_models import PerUnit

JAN, FEB, MAR, APR = (date(2026, m, 1) for m in (1, 2, 3, 4))


def per_unit(price: str) -> PerUnit:
    return PerUnit(unit_price=Decimal(price))


def candidate(
    price_id: str,
    layer: PriceLayer,
    start: date,
    price: str,
    *,
    currency: str = "USD",
    specificity: tuple[int, ...] = (),
    commitment: bool = False,
) -> PriceCandidate:
    return PriceCandidate(
        price_id=price_id,
        layer=layer,
        currency=currency,
        effective_from=start,
        model=per_unit(price),
        specificity=specificity,
        commitment=commitment,
    )


# default 6.00 from Jan, plan 5.00 from Feb, brand 4.50 from Mar, customer 4.00 from Apr
LAYERED = [
    candidate("default", PriceLayer.DEFAULT, JAN, "6.00"),
    candidate("plan", PriceLayer.PLAN, FEB, "5.00"),
    candidate("brand", PriceLayer.BRAND, MAR, "4.50"),
    candidate("customer", PriceLayer.CUSTOMER, APR, "4.00"),
]


def test_each_layer_wins_in_turn_once_it_has_a_version_in_force() -> None:
    # given a price in every layer, each starting a month after the one below
    # when resolved in the middle of each month
    resolved = [
        resolve_price(LAYERED, on=day, currency="USD")
        for day in (date(2026, m, 15) for m in range(1, 5))
    ]
    # then the most specific layer in force wins, and says which it is
    assert [(r.layer, r.model, r.price_id) for r in resolved if r] == [
        (PriceLayer.DEFAULT, per_unit("6.00"), "default"),
        (PriceLayer.PLAN, per_unit("5.00"), "plan"),
        (PriceLayer.BRAND, per_unit("4.50"), "brand"),
        (PriceLayer.CUSTOMER, per_unit("4.00"), "customer"),
    ]


def test_a_more_specific_layer_wins_whatever_the_order_of_the_candidates() -> None:
    resolved = resolve_price(list(reversed(LAYERED)), on=APR, currency="USD")
    assert resolved is not None
    assert (resolved.layer, resolved.model.unit_price) == (PriceLayer.CUSTOMER, Decimal("4.00"))


def test_within_a_layer_the_version_in_force_on_the_day_wins() -> None:
    # given plan prices 5.00 from Jan and 5.50 from Apr
    versions = [
        candidate("v2", PriceLayer.PLAN, APR, "5.50"),
        candidate("v1", PriceLayer.PLAN, JAN, "5.00"),
    ]
    # when resolved the day before, on, and after the change
    days = (date(2026, 3, 31), APR, date(2026, 12, 31))
    resolved = [resolve_price(versions, on=day, currency="USD") for day in days]
    # then the version in force on each day
    assert [(r.price_id, r.effective_from) for r in resolved if r] == [
        ("v1", JAN),
        ("v2", APR),
        ("v2", APR),
    ]


def test_nothing_is_in_force_before_the_first_version_or_in_another_currency() -> None:
    versions = [candidate("v1", PriceLayer.PLAN, FEB, "5.00")]
    assert resolve_price(versions, on=date(2026, 1, 31), currency="USD") is None
    assert resolve_price(versions, on=FEB, currency="EUR") is None
    assert resolve_price([], on=FEB, currency="USD") is None


def test_prices_are_per_currency() -> None:
    prices = [
        candidate("usd", PriceLayer.PLAN, JAN, "5.00"),
        candidate("eur", PriceLayer.PLAN, JAN, "4.60", currency="EUR"),
        candidate("gbp-customer", PriceLayer.CUSTOMER, JAN, "3.00", currency="GBP"),
    ]
    eur = resolve_price(prices, on=FEB, currency="EUR")
    assert eur is not None
    assert (eur.price_id, eur.currency, eur.model.unit_price) == ("eur", "EUR", Decimal("4.60"))


def test_a_customer_version_not_yet_in_force_does_not_hide_the_plan_price() -> None:
    prices = [
        candidate("plan", PriceLayer.PLAN, JAN, "5.00"),
        candidate("customer", PriceLayer.CUSTOMER, APR, "4.00"),
    ]
    resolved = resolve_price(prices, on=MAR, currency="USD")
    assert resolved is not None
    assert resolved.layer == PriceLayer.PLAN


def test_a_commitment_price_applies_only_while_committed_and_then_beats_the_plan_price() -> None:
    # given a plan price 5.00 and a commitment price 4.50, both from January
    prices = [
        candidate("plan", PriceLayer.PLAN, JAN, "5.00"),
        candidate("committed", PriceLayer.PLAN, JAN, "4.50", commitment=True),
        candidate("default", PriceLayer.DEFAULT, JAN, "6.00"),
    ]
    # when resolved outside and inside a commitment
    free = resolve_price(prices, on=FEB, currency="USD")
    committed = resolve_price(prices, on=FEB, currency="USD", commitment=True)
    # then the commitment price only inside it
    assert free is not None
    assert committed is not None
    assert (free.price_id, free.commitment) == ("plan", False)
    assert (committed.price_id, committed.commitment, committed.layer) == (
        "committed",
        True,
        PriceLayer.PLAN,
    )


def test_a_customer_price_beats_a_commitment_price() -> None:
    prices = [
        candidate("committed", PriceLayer.PLAN, JAN, "4.50", commitment=True),
        candidate("customer", PriceLayer.CUSTOMER, JAN, "4.00"),
    ]
    resolved = resolve_price(prices, on=FEB, currency="USD", commitment=True)
    assert resolved is not None
    assert resolved.price_id == "customer"


def test_within_a_layer_specificity_beats_a_later_version() -> None:
    # given a brand price for one plan charge (older) and a product-wide one (newer)
    prices = [
        candidate("for-the-charge", PriceLayer.BRAND, JAN, "4.40", specificity=(1, 0)),
        candidate("product-wide", PriceLayer.BRAND, MAR, "4.90", specificity=(0, 1)),
    ]
    resolved = resolve_price(prices, on=APR, currency="USD")
    # then the price for the charge wins
    assert resolved is not None
    assert resolved.price_id == "for-the-charge"


def test_the_resolved_price_carries_its_adjustments() -> None:
    discounts = (
        Adjustment(kind="discount", percent=Decimal(10)),
        Adjustment(kind="discount", percent=Decimal(5)),
    )
    prices = [
        PriceCandidate("p", PriceLayer.CUSTOMER, "USD", JAN, per_unit("100"), adjustments=discounts)
    ]
    resolved = resolve_price(prices, on=JAN, currency="USD")
    assert resolved is not None
    assert resolved.adjustments == discounts
