"""Reading a catalogue file: exact decimals, and every error naming its path in the file."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billstream.catalog.document import (
    CatalogDocument,
    load_catalog_json,
    load_catalog_yaml,
)
from billstream.catalog.price_models import Graduated, Package, PerUnit, Volume
from billstream.core.errors import InvalidInputError

DOCS = Path(__file__).resolve().parents[3] / "docs" / "catalog.md"

SPEC_PLAN = """\
effective_from: 2026-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
plans:
  - code: numbers-monthly
    name: Numbers, monthly
    currencies: [USD]
    charges:
      - code: numbers
        product: numbers
        timing: advance
        cadence: monthly
        prices:
          - {currency: USD, model: {type: per_unit, unit_price: 5.00}}
"""


def error_of(text: str) -> tuple[str | None, str]:
    with pytest.raises(InvalidInputError) as caught:
        load_catalog_yaml(text)
    return caught.value.field, caught.value.detail


def plan_with_price(model: str) -> str:
    return SPEC_PLAN.replace("{type: per_unit, unit_price: 5.00}", model)


def test_the_spec_plan_reads_as_five_dollars_per_number_per_month_in_advance() -> None:
    # when the SPEC's "$5 per number per month" file is read
    document = load_catalog_yaml(SPEC_PLAN)
    # then it says exactly that
    [plan] = document.plans
    [charge] = plan.charges
    [price] = charge.prices
    assert (plan.code, plan.currencies, charge.timing, charge.cadence) == (
        "numbers-monthly",
        ["USD"],
        "advance",
        "monthly",
    )
    assert price.model == PerUnit(unit_price=Decimal("5.00"))
    assert (price.currency, price.effective_from, document.effective_from) == (
        "USD",
        None,
        date(2026, 1, 1),
    )


def test_numbers_with_a_fraction_are_read_from_their_text_never_through_a_float() -> None:
    # given a price no binary float can hold
    text = plan_with_price("{type: per_unit, unit_price: 0.1000000000000000055511151231257827}")
    # when read
    [price] = load_catalog_yaml(text).plans[0].charges[0].prices
    # then every digit is kept
    assert isinstance(price.model, PerUnit)
    assert price.model.unit_price == Decimal("0.1000000000000000055511151231257827")
    assert str(price.model.unit_price) == "0.1000000000000000055511151231257827"


def test_json_reads_the_same_document_with_exact_decimals() -> None:
    body = (
        '{"effective_from": "2026-01-01", "products": [{"code": "numbers", "name": "N", '
        '"kind": "recurring"}], "price_list": [{"product": "numbers", "currency": "USD", '
        '"model": {"type": "per_unit", "unit_price": 5.00}}]}'
    )
    [price] = load_catalog_json(body).price_list
    assert isinstance(price.model, PerUnit)
    assert str(price.model.unit_price) == "5.00"


def test_graduated_volume_and_package_prices_read_as_their_models() -> None:
    text = """\
effective_from: 2026-01-01
price_list:
  - product: voice
    currency: USD
    model:
      type: graduated
      tiers: [{up_to: 1000, unit_price: 0.02}, {up_to: null, unit_price: 0.015}]
  - product: sms
    currency: USD
    model: {type: volume, minimum: 5, tiers: [{up_to: 1000, unit_price: 0.01}, {unit_price: 0.006}]}
  - product: storage
    currency: USD
    model: {type: package, block_size: 100, block_price: 8.00}
"""
    graduated, volume, package = (p.model for p in load_catalog_yaml(text).price_list)
    assert isinstance(graduated, Graduated)
    assert [(t.up_to, t.unit_price) for t in graduated.tiers] == [
        (Decimal(1000), Decimal("0.02")),
        (None, Decimal("0.015")),
    ]
    assert isinstance(volume, Volume)
    assert volume.minimum == Decimal(5)
    assert package == Package(block_size=Decimal(100), block_price=Decimal("8.00"))


def test_the_example_of_the_documentation_is_a_valid_catalogue() -> None:
    # given the full example of docs/catalog.md
    [example] = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    # when read
    document = load_catalog_yaml(example)
    # then it declares the products, plans and every kind of price the docs describe
    assert isinstance(document, CatalogDocument)
    assert [p.code for p in document.products] == [
        "numbers",
        "voice",
        "sms",
        "storage",
        "desk-phone",
    ]
    [plan] = document.plans
    assert [c.code for c in plan.charges] == ["numbers", "voice", "sms", "storage"]
    assert plan.included == {"voice_minutes": Decimal(500), "numbers": Decimal(150)}
    assert plan.setup_fee == {"USD": Decimal("25.00"), "GBP": Decimal("20.00")}
    assert [b.brand for b in document.brand_prices] == ["northwind-uk"]
    assert [c.account for c in document.customer_prices] == ["ABC"]


TIERS = "{type: graduated, tiers: [%s]}"


@pytest.mark.parametrize(
    ("model", "path", "reason"),
    [
        (
            TIERS % "{up_to: 100, unit_price: 1}, {up_to: 50, unit_price: 1}, {unit_price: 1}",
            "model.tiers[1].up_to",
            "tiers must ascend: 50",
        ),
        (
            TIERS % "{up_to: 100, unit_price: 1}, {up_to: 100, unit_price: 1}, {unit_price: 1}",
            "model.tiers[1].up_to",
            "tiers must ascend: 100",
        ),
        (
            TIERS % "{unit_price: 1}, {up_to: 100, unit_price: 1}",
            "model.tiers[0].up_to",
            "only the last tier may have no limit (up_to: null)",
        ),
        (
            "{type: per_unit, unit_price: -5.00}",
            "model.unit_price",
            "Input should be greater than or equal to 0",
        ),
        (
            TIERS % "{up_to: 10, unit_price: -0.01}, {unit_price: 1}",
            "model.tiers[0].unit_price",
            "Input should be greater than or equal to 0",
        ),
        (
            "{type: flat, amount: 10, minimum: 5, maximum: 1}",
            "model.maximum",
            "maximum 1 is below minimum 5",
        ),
        (
            "{type: package, block_size: 0, block_price: 8}",
            "model.block_size",
            "Input should be greater than 0",
        ),
        (
            "{type: per_hour, unit_price: 5}",
            "model",
            "Input tag 'per_hour' found using 'type' does not match any of the expected tags: "
            "'flat', 'per_unit', 'graduated', 'volume', 'package', 'percentage'",
        ),
    ],
)
def test_a_bad_price_model_is_refused_naming_its_path(model: str, path: str, reason: str) -> None:
    field, detail = error_of(plan_with_price(model))
    assert field == "plans[0].charges[0].prices[0]." + path
    assert detail.startswith(reason), detail


@pytest.mark.parametrize(
    ("old", "new", "path", "reason"),
    [
        ("kind: recurring", "kind: subscription", "products[0].kind", "Input should be "),
        ("currencies: [USD]", "currencies: []", "plans[0].currencies", "List should have at "),
        ("timing: advance", "timing: later", "plans[0].charges[0].timing", "Input should be "),
        ("cadence: monthly", "cadence: weekly", "plans[0].charges[0].cadence", "Input should be "),
        ("cadence: monthly", "cadence: monthly\n        colour: red", "plans[0].charges[0].colour",
         "Extra inputs are not permitted"),
        ("name: Numbers, monthly", "name: N\n    setup_fee: {USD: -1}", "plans[0].setup_fee.USD",
         "Input should be greater than or equal to 0"),
        ("name: Numbers, monthly", "name: N\n    trial_days: -1", "plans[0].trial_days",
         "Input should be greater than or equal to 0"),
        ("code: numbers-monthly", "code: numbers monthly", "plans[0].code", "String should match"),
        ("name: Phone number, kind", "name: P, sellable_from: 2026-02-01, sellable_to: "
         "2026-01-01, kind", "products[0]", "sellable_to is before sellable_from"),
    ],
)  # fmt: skip
def test_a_bad_field_is_refused_naming_its_path(old: str, new: str, path: str, reason: str) -> None:
    assert old in SPEC_PLAN
    field, detail = error_of(SPEC_PLAN.replace(old, new))
    assert field == path
    assert detail.startswith(reason), detail


def test_a_brand_or_customer_price_names_a_product_or_a_plan_charge() -> None:
    base = (
        "effective_from: 2026-01-01\nbrand_prices:\n"
        "  - {brand: eu, currency: EUR, %s model: {type: flat, amount: 1}}"
    )
    assert error_of(base % "") == (
        "brand_prices[0]",
        "give a product, or a plan and one of its charges",
    )
    assert error_of(base % "plan: p,") == (
        "brand_prices[0]",
        "give a product, or a plan and one of its charges",
    )
    assert error_of(base % "product: a, plan: p, charge: c,") == (
        "brand_prices[0]",
        "give a product or a plan charge, not both",
    )


def test_text_that_is_not_a_catalogue_is_refused_with_where() -> None:
    assert error_of("plans: [") == (
        "line 1",
        "not valid YAML: expected the node content, but found '<stream end>'",
    )
    assert error_of("- just\n- a list\n") == (
        "document",
        "a catalogue file is a mapping (products, price_list, plans, ...)",
    )
    assert error_of("effective_from: 2026-01-01\n") == (
        "document",
        "the catalogue declares nothing (no products, prices or plans)",
    )
    not_a_number = "price_list: [{product: a, currency: USD, model: {type: flat, amount: .nan}}]"
    assert error_of(not_a_number) == ("line 1", "not valid YAML: '.nan' is not a finite number")


def test_several_errors_report_the_first_and_count_the_rest() -> None:
    text = SPEC_PLAN.replace("kind: recurring", "kind: x").replace("timing: advance", "timing: y")
    assert error_of(text) == (
        "products[0].kind",
        "Input should be 'recurring', 'usage', 'one_time' or 'hardware' (and 1 more errors)",
    )
