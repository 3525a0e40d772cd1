"""Applying a catalogue file: idempotent, prices versioned, bad input refused writing nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billstream.catalog.models import Plan, PlanCharge, Price, Product
from billstream.catalog.service import Outcome, get_plan, resolve_charge_prices
from billstream.core.clock import FakeClock
from billstream.core.errors import BillstreamError, ConflictError, InvalidInputError
from billstream.tenants.models import Tenant
from tests.factories import apply_catalog_yaml, context_of, make_account, make_tenant

SPEC_FILE = """\
effective_from: 2026-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
plans:
  - code: numbers-monthly
    name: Numbers, monthly
    currencies: [USD]
    included: {numbers: 150}
    charges:
      - code: numbers
        product: numbers
        timing: advance
        cadence: monthly
        prices:
          - {currency: USD, model: {type: per_unit, unit_price: 5.00}}
"""

TABLES = (Product, Plan, PlanCharge, Price)


def rows(session: Session) -> dict[str, int]:
    return {
        m.__tablename__: int(session.scalar(select(func.count()).select_from(m)) or 0)
        for m in TABLES
    }


def unit_price(session: Session, tenant: Tenant, on: date) -> Decimal:
    plan = get_plan(session, ctx=context_of(session, tenant), plan="numbers-monthly", on=on)
    prices = resolve_charge_prices(
        session, tenant_id=tenant.id, account_id=None, plan_id=plan.id, currency="USD", on=on
    )
    model = prices["numbers"].model
    assert model.type == "per_unit"
    return model.unit_price


def test_the_spec_plan_file_is_applied(session: Session, clock: FakeClock) -> None:
    # given a tenant billing in USD
    tenant = make_tenant(session, clock, currency="USD")
    # when the SPEC "$5 per number per month" file is applied
    report = apply_catalog_yaml(session, clock, tenant, SPEC_FILE)
    # then the product, the plan, its charge and its price are created
    assert [(i.kind, i.key, i.outcome) for i in report.items] == [
        ("product", "numbers", Outcome.CREATED),
        ("plan", "numbers-monthly", Outcome.CREATED),
        ("charge", "numbers-monthly/numbers", Outcome.CREATED),
        ("price", "numbers-monthly/numbers USD from 2026-01-01", Outcome.CREATED),
    ]
    assert rows(session) == {"products": 1, "plans": 1, "plan_charges": 1, "prices": 1}
    # and the plan sells numbers at $5 per number per month, in advance
    plan = get_plan(
        session,
        ctx=context_of(session, tenant),
        plan="numbers-monthly",
        on=date(2026, 1, 1),
    )
    [charge] = plan.charges
    assert (charge.code, charge.product_kind, charge.timing, charge.cadence) == (
        "numbers",
        "recurring",
        "advance",
        "monthly",
    )
    assert plan.included == {"numbers": Decimal(150)}
    assert unit_price(session, tenant, date(2026, 1, 16)) == Decimal("5.00")


def test_applying_the_same_file_twice_changes_nothing(session: Session, clock: FakeClock) -> None:
    # given the SPEC file applied once
    tenant = make_tenant(session, clock, currency="USD")
    apply_catalog_yaml(session, clock, tenant, SPEC_FILE)
    before = rows(session)
    # when applied again
    report = apply_catalog_yaml(session, clock, tenant, SPEC_FILE)
    # then every item is unchanged and no row was added
    assert (report.created, report.changed, report.unchanged) == (0, 0, 4)
    assert rows(session) == before == {"products": 1, "plans": 1, "plan_charges": 1, "prices": 1}


def test_a_changed_price_becomes_a_new_version_from_the_files_date(
    session: Session, clock: FakeClock
) -> None:
    # given the SPEC file applied from January
    tenant = make_tenant(session, clock, currency="USD")
    apply_catalog_yaml(session, clock, tenant, SPEC_FILE)
    # when the file says 5.50 from April
    april = SPEC_FILE.replace("2026-01-01", "2026-04-01").replace("5.00", "5.50")
    report = apply_catalog_yaml(session, clock, tenant, april)
    # then only the price changed: a new version, the old one kept
    assert [(i.kind, i.outcome) for i in report.items] == [
        ("product", Outcome.UNCHANGED),
        ("plan", Outcome.UNCHANGED),
        ("charge", Outcome.UNCHANGED),
        ("price", Outcome.CHANGED),
    ]
    versions = session.execute(
        select(Price.effective_from, Price.model).order_by(Price.effective_from)
    )
    assert [(d, m["unit_price"]) for d, m in versions] == [
        (date(2026, 1, 1), "5.00"),
        (date(2026, 4, 1), "5.50"),
    ]
    # and each service date uses the version in force on it
    assert unit_price(session, tenant, date(2026, 3, 31)) == Decimal("5.00")
    assert unit_price(session, tenant, date(2026, 4, 1)) == Decimal("5.50")
    # and applying the April file again adds nothing
    assert apply_catalog_yaml(session, clock, tenant, april).changed == 0
    assert rows(session)["prices"] == 2


def test_a_later_date_with_the_same_price_adds_no_version(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock, currency="USD")
    apply_catalog_yaml(session, clock, tenant, SPEC_FILE)
    report = apply_catalog_yaml(
        session, clock, tenant, SPEC_FILE.replace("2026-01-01", "2026-06-01")
    )
    assert report.unchanged == 4
    assert rows(session)["prices"] == 1


def test_a_changed_name_or_term_is_changed_in_place(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, currency="USD")
    apply_catalog_yaml(session, clock, tenant, SPEC_FILE)
    changed = SPEC_FILE.replace("Numbers, monthly", "Numbers (monthly)").replace(
        "{numbers: 150}", "{numbers: 200}"
    )
    report = apply_catalog_yaml(session, clock, tenant, changed)
    assert [(i.kind, i.outcome) for i in report.items if i.outcome != Outcome.UNCHANGED] == [
        ("plan", Outcome.CHANGED)
    ]
    plan = session.scalars(select(Plan)).one()
    assert (plan.name, plan.included) == ("Numbers (monthly)", {"numbers": "200"})
    assert rows(session) == {"products": 1, "plans": 1, "plan_charges": 1, "prices": 1}


def test_a_file_may_schedule_several_versions_of_a_price(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock, currency="USD")
    scheduled = SPEC_FILE.replace(
        "          - {currency: USD, model: {type: per_unit, unit_price: 5.00}}\n",
        "          - {currency: USD, model: {type: per_unit, unit_price: 5.00}}\n"
        "          - {currency: USD, effective_from: 2026-07-01, "
        "model: {type: per_unit, unit_price: 5.25}}\n",
    )
    report = apply_catalog_yaml(session, clock, tenant, scheduled)
    assert [i.key for i in report.items if i.kind == "price"] == [
        "numbers-monthly/numbers USD from 2026-01-01",
        "numbers-monthly/numbers USD from 2026-07-01",
    ]
    assert unit_price(session, tenant, date(2026, 6, 30)) == Decimal("5.00")
    assert unit_price(session, tenant, date(2026, 7, 1)) == Decimal("5.25")
    assert apply_catalog_yaml(session, clock, tenant, scheduled).unchanged == 5


def test_a_different_price_on_a_date_already_stored_is_refused(
    session: Session, clock: FakeClock
) -> None:
    # given the SPEC price from January
    tenant = make_tenant(session, clock, currency="USD")
    apply_catalog_yaml(session, clock, tenant, SPEC_FILE)
    before = rows(session)
    # when a file changes the price and the plan's name but keeps the date
    edited = SPEC_FILE.replace("5.00", "4.00").replace("Numbers, monthly", "Renamed")
    with pytest.raises(ConflictError) as caught:
        apply_catalog_yaml(session, clock, tenant, edited)
    # then it is refused naming the price's date, and nothing changed
    assert caught.value.field == "plans[0].charges[0].prices[0].effective_from"
    assert caught.value.code == "catalog_price_version_clash"
    assert rows(session) == before
    assert session.scalars(select(Plan.name)).one() == "Numbers, monthly"


def test_decimals_round_trip_exactly_through_the_database(
    session: Session, clock: FakeClock
) -> None:
    # given a price with more digits than a binary float holds
    tenant = make_tenant(session, clock, currency="USD")
    exact = "0.1000000000000000055511151231257827"
    apply_catalog_yaml(session, clock, tenant, SPEC_FILE.replace("5.00", exact))
    session.expire_all()
    # when read back and resolved
    price = unit_price(session, tenant, date(2026, 2, 1))
    # then every digit is there, on SQLite and PostgreSQL alike
    assert str(price) == exact
    assert session.scalars(select(Price.model)).one()["unit_price"] == exact


# --- bad input: each names its path and writes nothing --------------------------------------

CUSTOMER_AND_BRAND = """\
effective_from: 2026-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
brand_prices:
  - {brand: %(brand)s, product: numbers, currency: %(brand_currency)s,
     model: {type: per_unit, unit_price: 4.40}}
customer_prices:
  - {account: %(account)s, product: numbers, currency: %(customer_currency)s,
     model: {type: per_unit, unit_price: 4.00}}
"""
GOOD = {
    "brand": "acme-eu",
    "brand_currency": "EUR",
    "account": "CRM-1",
    "customer_currency": "USD",
}


@pytest.fixture
def acme(session: Session, clock: FakeClock) -> Tenant:
    """A tenant billing in USD, with a brand billing in EUR and a customer CRM-1."""
    tenant = make_tenant(session, clock, currency="USD", slug="acme")
    make_tenant(session, clock, parent=tenant, currency="EUR", slug="acme-eu")
    make_account(session, clock, tenant, external_id="CRM-1")
    return tenant


@pytest.mark.parametrize(
    ("text", "field", "code", "reason"),
    [
        (
            SPEC_FILE.replace("product: numbers", "product: voice"),
            "plans[0].charges[0].product",
            "catalog_unknown_product",
            "unknown product 'voice': declare it under products or in a parent's catalogue",
        ),
        (
            SPEC_FILE.replace("currencies: [USD]", "currencies: [USD, GBP]"),
            "plans[0].currencies[1]",
            "catalog_currency_not_billed",
            "GBP is not a currency acme's tree bills in: EUR, USD",
        ),
        (
            SPEC_FILE.replace("{currency: USD,", "{currency: EUR,"),
            "plans[0].charges[0].prices[0].currency",
            "catalog_currency_not_billed",
            "EUR is not a currency plan numbers-monthly is sold in: USD",
        ),
        (
            SPEC_FILE.replace("{currency: USD,", "{currency: XYZ,"),
            "plans[0].charges[0].prices[0].currency",
            "invalid_input",
            "'XYZ' is not an ISO 4217 currency code",
        ),
        (
            SPEC_FILE.replace("effective_from: 2026-01-01\n", ""),
            "plans[0].charges[0].prices[0].effective_from",
            "catalog_invalid_file",
            "give the date the price starts, here or as the file's effective_from",
        ),
        (
            SPEC_FILE + "  - code: numbers-monthly\n    name: Again\n    currencies: [USD]\n"
            "    charges: [{code: numbers, product: numbers}]\n",
            "plans[1].code",
            "catalog_invalid_file",
            "'numbers-monthly' is declared twice",
        ),
        (
            CUSTOMER_AND_BRAND % (GOOD | {"account": "CRM-404"}),
            "customer_prices[0].account",
            "catalog_unknown_account",
            "no account with external_id 'CRM-404'",
        ),
        (
            CUSTOMER_AND_BRAND % (GOOD | {"brand": "nobody"}),
            "brand_prices[0].brand",
            "catalog_unknown_brand",
            "no brand 'nobody' below acme",
        ),
        (
            CUSTOMER_AND_BRAND % (GOOD | {"brand": "acme"}),
            "brand_prices[0].brand",
            "catalog_unknown_brand",
            "no brand 'acme' below acme",
        ),
        (
            CUSTOMER_AND_BRAND % (GOOD | {"brand_currency": "USD"}),
            "brand_prices[0].currency",
            "catalog_currency_not_billed",
            "USD is not a currency brand acme-eu's tree bills in: EUR",
        ),
        (
            CUSTOMER_AND_BRAND % (GOOD | {"customer_currency": "EUR"}),
            "customer_prices[0].currency",
            "catalog_currency_not_billed",
            "EUR is not a currency account CRM-1 is billed in: USD",
        ),
    ],
)
def test_bad_input_names_its_path_and_writes_nothing(
    session: Session, clock: FakeClock, acme: Tenant, text: str, field: str, code: str, reason: str
) -> None:
    # given a tenant (USD) with a brand (EUR) and an account
    before = rows(session)
    # when a file with one mistake is applied
    with pytest.raises(BillstreamError) as caught:
        apply_catalog_yaml(session, clock, acme, text)
    # then the error names the path and the reason, and nothing was written
    assert (caught.value.field, caught.value.code, caught.value.detail) == (field, code, reason)
    assert isinstance(caught.value, InvalidInputError)
    assert rows(session) == before == {"products": 0, "plans": 0, "plan_charges": 0, "prices": 0}


def test_the_good_brand_and_customer_file_applies(
    session: Session, clock: FakeClock, acme: Tenant
) -> None:
    report = apply_catalog_yaml(session, clock, acme, CUSTOMER_AND_BRAND % GOOD)
    assert [(i.kind, i.key) for i in report.items] == [
        ("product", "numbers"),
        ("price", "numbers for acme-eu EUR from 2026-01-01"),
        ("price", "numbers for CRM-1 USD from 2026-01-01"),
    ]
    assert report.created == 3
