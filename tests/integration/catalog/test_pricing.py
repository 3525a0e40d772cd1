"""Prices in layers across the tenant tree, effective dating, and plans as sold."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.catalog.layers import PriceLayer, ResolvedPrice
from billstream.catalog.service import (
    get_plan,
    included_quantities,
    list_plans,
    list_products,
    resolve_charge_prices,
)
from billstream.core.clock import FakeClock
from billstream.core.errors import InvalidInputError, NotFoundError
from billstream.tenants.models import Tenant
from tests.factories import apply_catalog_yaml, context_of, make_account, make_tenant

DOCS = Path(__file__).resolve().parents[3] / "docs" / "catalog.md"

GROUP_FILE = """\
effective_from: 2026-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
  - {code: router, name: Router, kind: hardware, sellable_to: 2026-06-30}
price_list:
  - {product: numbers, currency: USD, model: {type: per_unit, unit_price: 6.00}}
plans:
  - code: numbers-monthly
    name: Numbers, monthly
    currencies: [USD, EUR]
    sellable_from: 2026-01-01
    sellable_to: 2026-12-31
    commitment_months: 12
    early_termination_fee: {USD: 100.00}
    setup_fee: {USD: 25.00, EUR: 23}
    included: {voice_minutes: 500, numbers: 150}
    charges:
      - code: numbers
        product: numbers
        prices:
          - {currency: USD, effective_from: 2026-02-01, model: {type: per_unit, unit_price: 5.00}}
          - {currency: EUR, model: {type: per_unit, unit_price: 4.60}}
        commitment_prices:
          - {currency: USD, effective_from: 2026-02-01, model: {type: per_unit, unit_price: 4.50}}
  - code: router-bundle
    name: Router bundle
    currencies: [USD]
    charges:
      - {code: router, product: router, addon: false}
      - {code: numbers, product: numbers}
brand_prices:
  - {brand: group-eu, plan: numbers-monthly, charge: numbers, currency: EUR,
     effective_from: 2026-03-01, model: {type: per_unit, unit_price: 4.40}}
  - {brand: group-us, product: numbers, currency: USD, effective_from: 2026-03-01,
     model: {type: per_unit, unit_price: 4.75}}
customer_prices:
  - {account: CRM-1, tenant: group-us, product: numbers, currency: USD,
     effective_from: 2026-04-01, model: {type: per_unit, unit_price: 4.00},
     adjustments: [{kind: discount, percent: 10}]}
"""


class Group:
    def __init__(self, session: Session, clock: FakeClock) -> None:
        self.root = make_tenant(session, clock, currency="USD", slug="group")
        self.us = make_tenant(session, clock, parent=self.root, slug="group-us")
        self.eu = make_tenant(session, clock, parent=self.root, currency="EUR", slug="group-eu")
        self.customer = make_account(session, clock, self.us, external_id="CRM-1")
        self.other = make_account(session, clock, self.us, external_id="CRM-2")
        apply_catalog_yaml(session, clock, self.root, GROUP_FILE)


@pytest.fixture
def group(session: Session, clock: FakeClock) -> Group:
    """A group (USD) with a US brand and an EU brand (EUR), sharing the group's catalogue."""
    return Group(session, clock)


def prices(
    session: Session,
    tenant: Tenant,
    on: date,
    *,
    account: Account | None = None,
    currency: str = "USD",
    plan: str = "numbers-monthly",
    commitment: bool = False,
) -> dict[str, ResolvedPrice]:
    snapshot = get_plan(session, ctx=context_of(session, tenant), plan=plan, on=on)
    return resolve_charge_prices(
        session,
        tenant_id=tenant.id,
        account_id=account.id if account else None,
        plan_id=snapshot.id,
        currency=currency,
        on=on,
        commitment=commitment,
    )


def numbers(resolved: dict[str, ResolvedPrice]) -> tuple[PriceLayer, Decimal, date]:
    price = resolved["numbers"]
    assert price.model.type == "per_unit"
    return price.layer, price.model.unit_price, price.effective_from


def test_default_plan_brand_and_customer_layers_each_win_in_turn(
    session: Session, group: Group
) -> None:
    # given the group's default 6.00 (Jan), plan 5.00 (Feb), US brand 4.75 (Mar) and a
    # customer special 4.00 (Apr) for CRM-1 of the US brand
    # when CRM-1 buys numbers through the US brand, month by month
    by_month = [
        numbers(prices(session, group.us, date(2026, m, 10), account=group.customer))
        for m in (1, 2, 3, 4)
    ]
    # then each layer wins once it is in force
    assert by_month == [
        (PriceLayer.DEFAULT, Decimal("6.00"), date(2026, 1, 1)),
        (PriceLayer.PLAN, Decimal("5.00"), date(2026, 2, 1)),
        (PriceLayer.BRAND, Decimal("4.75"), date(2026, 3, 1)),
        (PriceLayer.CUSTOMER, Decimal("4.00"), date(2026, 4, 1)),
    ]
    # and the customer's price carries its discount
    april = prices(session, group.us, date(2026, 4, 10), account=group.customer)["numbers"]
    assert [(a.kind, a.percent) for a in april.adjustments] == [("discount", Decimal(10))]


def test_a_special_price_is_only_for_its_customer_and_a_brand_price_only_for_its_brand(
    session: Session, group: Group
) -> None:
    april = date(2026, 4, 10)
    # another customer of the US brand gets the brand price
    assert numbers(prices(session, group.us, april, account=group.other))[:2] == (
        PriceLayer.BRAND,
        Decimal("4.75"),
    )
    # the group itself sells at the plan price
    assert numbers(prices(session, group.root, april))[:2] == (PriceLayer.PLAN, Decimal("5.00"))
    # the EU brand sells in EUR: the plan price until its own price starts in March
    assert numbers(prices(session, group.eu, date(2026, 2, 1), currency="EUR"))[:2] == (
        PriceLayer.PLAN,
        Decimal("4.60"),
    )
    assert numbers(prices(session, group.eu, april, currency="EUR"))[:2] == (
        PriceLayer.BRAND,
        Decimal("4.40"),
    )


def test_a_commitment_price_applies_while_committed(session: Session, group: Group) -> None:
    march = date(2026, 3, 10)
    assert numbers(prices(session, group.root, march, commitment=True))[:2] == (
        PriceLayer.PLAN,
        Decimal("4.50"),
    )
    assert prices(session, group.root, march, commitment=True)["numbers"].commitment is True
    assert numbers(prices(session, group.root, march))[:2] == (PriceLayer.PLAN, Decimal("5.00"))


def test_a_currency_without_a_price_is_refused_naming_the_currency(
    session: Session, group: Group
) -> None:
    with pytest.raises(InvalidInputError) as not_sold:
        prices(session, group.root, date(2026, 3, 1), currency="GBP")
    assert (not_sold.value.field, not_sold.value.detail) == (
        "currency",
        "plan numbers-monthly is sold in USD, EUR, not GBP",
    )
    # the EUR price of the bundle's charges does not exist
    with pytest.raises(InvalidInputError) as no_price:
        prices(session, group.root, date(2026, 3, 1), plan="router-bundle", currency="EUR")
    assert no_price.value.field == "currency"


def test_a_plan_is_sold_only_within_its_dates_and_its_products(
    session: Session, group: Group
) -> None:
    ctx = context_of(session, group.root)
    # the plan is sellable in 2026 only
    with pytest.raises(InvalidInputError) as late:
        get_plan(
            session,
            ctx=ctx,
            plan="numbers-monthly",
            on=date(2027, 1, 1),
        )
    assert (late.value.field, late.value.code, late.value.detail) == (
        "plan",
        "catalog_not_sellable",
        "plan numbers-monthly is not sellable on 2027-01-01 (sellable 2026-01-01 to 2026-12-31)",
    )
    # the bundle needs a router, which is sold until June
    bundle = get_plan(session, ctx=ctx, plan="router-bundle", on=date(2026, 6, 30))
    assert [c.code for c in bundle.charges] == ["router", "numbers"]
    with pytest.raises(InvalidInputError) as no_router:
        get_plan(session, ctx=ctx, plan="router-bundle", on=date(2026, 7, 1))
    assert no_router.value.detail == (
        "plan router-bundle is not sellable on 2026-07-01: its product router is sellable "
        "always to 2026-06-30"
    )


def test_plan_terms_are_exposed(session: Session, group: Group) -> None:
    plan = get_plan(
        session,
        ctx=context_of(session, group.us),
        plan="numbers-monthly",
        on=date(2026, 2, 1),
    )
    assert (plan.commitment_months, plan.trial_days, plan.currencies) == (12, 0, ("USD", "EUR"))
    assert (plan.setup_fee, plan.early_termination_fee) == (Decimal(25), Decimal(100))
    assert plan.setup_fees == {"USD": Decimal(25), "EUR": Decimal(23)}
    assert plan.setup_fee_in("EUR") == Decimal(23)
    assert plan.early_termination_fee_in("EUR") is None
    assert plan.tenant_id == group.root.id
    assert included_quantities(session, plan_id=plan.id) == {
        "voice_minutes": Decimal(500),
        "numbers": Decimal(150),
    }


def test_a_brand_uses_its_parents_catalogue_and_adds_its_own(
    session: Session, clock: FakeClock, group: Group
) -> None:
    # given the US brand declares its own "numbers" product and a plan of its own
    own = """\
effective_from: 2026-01-01
products:
  - {code: numbers, name: US numbers, kind: recurring}
plans:
  - code: us-only
    name: US only
    currencies: [USD]
    charges:
      - code: numbers
        product: numbers
        prices: [{currency: USD, model: {type: per_unit, unit_price: 3.00}}]
"""
    apply_catalog_yaml(session, clock, group.us, own)
    us_ctx = context_of(session, group.us)
    # then the brand sees its own numbers product (nearest wins) and both plans
    products = list_products(session, ctx=us_ctx).items
    assert sorted((p.code, p.name) for p in products) == [
        ("numbers", "US numbers"),
        ("router", "Router"),
    ]
    plans = list_plans(session, ctx=us_ctx).items
    assert sorted(p.code for p in plans) == ["numbers-monthly", "router-bundle", "us-only"]
    us_only = prices(session, group.us, date(2026, 2, 1), plan="us-only")
    assert numbers(us_only)[:2] == (PriceLayer.PLAN, Decimal("3.00"))
    # and the parent and the sibling brand do not see it
    with pytest.raises(NotFoundError) as unknown:
        get_plan(
            session,
            ctx=context_of(session, group.eu),
            plan="us-only",
            on=date(2026, 2, 1),
        )
    assert unknown.value.field == "plan"
    root_plans = list_plans(session, ctx=context_of(session, group.root)).items
    assert sorted(p.code for p in root_plans) == ["numbers-monthly", "router-bundle"]


def test_the_documentation_example_applies_and_prices_as_described(
    session: Session, clock: FakeClock
) -> None:
    # given Northwind (USD) with a UK brand (GBP) and customer ABC, as the demo has them
    [example] = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    northwind = make_tenant(session, clock, currency="USD", slug="northwind")
    make_tenant(session, clock, parent=northwind, currency="GBP", slug="northwind-uk")
    customer = make_account(session, clock, northwind, external_id="ABC")
    # when the example is applied, twice
    first = apply_catalog_yaml(session, clock, northwind, example)
    second = apply_catalog_yaml(session, clock, northwind, example)
    # then everything is created once (the April price as a second version of its series)
    assert (first.created, first.changed, first.unchanged) == (20, 1, 0)
    assert (second.created, second.changed, second.unchanged) == (0, 0, 21)
    # and the numbers charge costs 5.00 in March, 5.50 from April, 4.00 for ABC
    assert numbers(prices(session, northwind, date(2026, 3, 31)))[:2] == (
        PriceLayer.PLAN,
        Decimal("5.00"),
    )
    assert numbers(prices(session, northwind, date(2026, 4, 1)))[:2] == (
        PriceLayer.PLAN,
        Decimal("5.50"),
    )
    assert numbers(prices(session, northwind, date(2026, 4, 1), account=customer))[:2] == (
        PriceLayer.CUSTOMER,
        Decimal("4.00"),
    )
