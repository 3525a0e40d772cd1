"""/v1/catalog/apply, /v1/products and /v1/plans over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from httpx2 import Response
from tests.e2e.conftest import Api, Caller, assert_problem

SPEC_FILE = """\
effective_from: 2026-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
  - {code: voice, name: Voice minutes, kind: usage, characteristics: {unit: minute}}
plans:
  - code: numbers-monthly
    name: Numbers, monthly
    currencies: [USD]
    setup_fee: {USD: 25.00}
    included: {voice_minutes: 500}
    charges:
      - code: numbers
        product: numbers
        timing: advance
        cadence: monthly
        prices:
          - {currency: USD, model: {type: per_unit, unit_price: 5.00}}
      - code: voice
        product: voice
        timing: arrears
        prices:
          - currency: USD
            model:
              type: graduated
              tiers: [{up_to: 1000, unit_price: 0.02}, {up_to: null, unit_price: 0.015}]
"""
CATALOG_TABLES = ("products", "plans", "plan_charges", "prices")


def apply(api: Api, caller: Caller, text: str, **params: str) -> Response:
    return api.client.post(
        "/v1/catalog/apply",
        content=text.encode(),
        params=params,
        headers={**caller.headers, "Content-Type": "application/yaml"},
    )


def catalog_rows(api: Api) -> dict[str, int]:
    return {table: api.count(table) for table in CATALOG_TABLES}


@pytest.fixture
def us(api: Api) -> Caller:
    return api.tenant(currency="USD", slug="northwind")


def test_a_catalogue_file_is_applied_once_and_then_changes_nothing(api: Api, us: Caller) -> None:
    # when the SPEC file is applied as YAML
    first = apply(api, us, SPEC_FILE)
    # then it says what it created
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["tenant_id"], body["created"], body["changed"], body["unchanged"]) == (
        us.tenant_id,
        7,
        0,
        0,
    )
    assert body["items"][0] == {"kind": "product", "key": "numbers", "outcome": "created"}
    assert catalog_rows(api) == {"products": 2, "plans": 1, "plan_charges": 2, "prices": 2}
    # and applied again, nothing changes
    again = apply(api, us, SPEC_FILE).json()
    assert (again["created"], again["changed"], again["unchanged"]) == (0, 0, 7)
    assert catalog_rows(api) == {"products": 2, "plans": 1, "plan_charges": 2, "prices": 2}


def test_the_same_catalogue_as_json_keeps_exact_decimals(api: Api, us: Caller) -> None:
    body = (
        '{"effective_from": "2026-01-01", "products": [{"code": "numbers", "name": "N", '
        '"kind": "recurring"}], "price_list": [{"product": "numbers", "currency": "USD", '
        '"model": {"type": "per_unit", "unit_price": 0.1000000000000000055511151231257827}}]}'
    )
    response = api.client.post(
        "/v1/catalog/apply",
        content=body.encode(),
        headers={**us.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2


def test_plans_products_and_prices_are_read_with_decimal_strings(api: Api, us: Caller) -> None:
    # given the SPEC file, then a new numbers price from April
    apply(api, us, SPEC_FILE)
    april = SPEC_FILE.replace("2026-01-01", "2026-04-01")
    apply(api, us, april.replace("unit_price: 5.00", "unit_price: 5.50"))
    # when the plan and its prices are read
    [plan] = api.ok(us, "/v1/plans")["data"]
    prices = api.ok(us, f"/v1/plans/{plan['id']}/prices")["data"]
    # then the plan shows its terms and charges
    assert {k: plan[k] for k in ("code", "currencies", "setup_fee", "included")} == {
        "code": "numbers-monthly",
        "currencies": ["USD"],
        "setup_fee": {"USD": "25"},
        "included": {"voice_minutes": "500"},
    }
    assert plan["tenant_id"] == us.tenant_id
    assert [(c["code"], c["timing"], c["cadence"]) for c in plan["charges"]] == [
        ("numbers", "advance", "monthly"),
        ("voice", "arrears", "monthly"),
    ]
    assert api.ok(us, f"/v1/plans/{plan['id']}") == plan
    # and every version of every price, amounts as decimal strings
    numbers = sorted(
        (p["effective_from"], p["model"]["unit_price"], p["layer"])
        for p in prices
        if p["model"]["type"] == "per_unit"
    )
    assert numbers == [("2026-01-01", "5.00", "plan"), ("2026-04-01", "5.50", "plan")]
    [voice] = [p for p in prices if p["model"]["type"] == "graduated"]
    assert voice["model"]["tiers"] == [
        {"up_to": "1000", "unit_price": "0.02", "flat_fee": "0"},
        {"up_to": None, "unit_price": "0.015", "flat_fee": "0"},
    ]
    # and the products
    products = api.ok(us, "/v1/products", kind="usage")["data"]
    assert [(p["code"], p["characteristics"]) for p in products] == [("voice", {"unit": "minute"})]
    assert api.ok(us, f"/v1/products/{products[0]['id']}")["name"] == "Voice minutes"


def test_lists_are_cursor_paginated(api: Api, us: Caller) -> None:
    apply(api, us, SPEC_FILE)
    first = api.ok(us, "/v1/products", limit=1)
    second = api.ok(us, "/v1/products", limit=1, cursor=first["next_cursor"])
    assert len(first["data"]) == len(second["data"]) == 1
    assert second["next_cursor"] is None
    assert {first["data"][0]["code"], second["data"][0]["code"]} == {"numbers", "voice"}
    assert_problem(
        api.get(us, "/v1/plans", cursor="nope"), status=422, code="invalid_cursor", field="cursor"
    )


def test_a_brand_sees_its_parents_catalogue_without_its_parents_id(api: Api, us: Caller) -> None:
    # given a brand below Northwind, with a key scoped to the brand only
    brand = api.created(
        us, "/v1/tenants", {"parent_id": us.tenant_id, "slug": "nw-uk", "name": "UK"}
    )
    brand_key = api.key(brand["id"])
    apply(api, us, SPEC_FILE)
    # when the brand lists plans
    [plan] = api.ok(brand_key, "/v1/plans")["data"]
    # then it sees Northwind's plan, its owner shown as null (outside the key's scope)
    assert (plan["code"], plan["tenant_id"]) == ("numbers-monthly", None)
    assert us.tenant_id not in str(api.ok(brand_key, f"/v1/plans/{plan['id']}/prices"))


@pytest.mark.parametrize(
    ("old", "new", "field", "code"),
    [
        ("product: voice", "product: sms", "plans[0].charges[1].product",
         "catalog_unknown_product"),
        ("{up_to: 1000, unit_price: 0.02}, {up_to: null", "{up_to: 1000, unit_price: 0.02}, "
         "{up_to: 10, unit_price: 0.01}, {up_to: null", "plans[0].charges[1].prices[0].model"
         ".tiers[1].up_to", "catalog_invalid_file"),
        ("unit_price: 5.00", "unit_price: -5.00", "plans[0].charges[0].prices[0].model.unit_price",
         "catalog_invalid_file"),
        ("currencies: [USD]", "currencies: [EUR]", "plans[0].currencies[0]",
         "catalog_currency_not_billed"),
        ("products:", "products: [\n", "line 4", "catalog_invalid_file"),
    ],
)  # fmt: skip
def test_bad_input_is_a_problem_naming_the_path_and_writes_nothing(
    api: Api, us: Caller, old: str, new: str, field: str, code: str
) -> None:
    before = api.counts()
    response = apply(api, us, SPEC_FILE.replace(old, new))
    assert_problem(response, status=422, code=code, field=field)
    assert api.counts() == before


def test_another_tenants_catalogue_cannot_be_applied_or_read(api: Api, us: Caller) -> None:
    other = api.tenant(currency="USD")
    apply(api, us, SPEC_FILE)
    [plan] = api.ok(us, "/v1/plans")["data"]
    before = api.counts()
    denied: list[Any] = [
        apply(api, other, SPEC_FILE, tenant_id=us.tenant_id),
        api.get(other, f"/v1/plans/{plan['id']}"),
        api.get(other, f"/v1/plans/{plan['id']}/prices"),
        api.get(other, "/v1/plans", tenant_id=us.tenant_id),
    ]
    assert [r.status_code for r in denied] == [404, 404, 404, 404]
    assert api.ok(other, "/v1/plans")["data"] == []
    assert api.counts() == before
