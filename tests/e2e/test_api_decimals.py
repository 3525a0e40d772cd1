"""Every decimal the API answers is a plain fixed-point string: ``50``, never ``5E+1``.

Two walks, so a schema or route added later is covered by itself:

- every response model of every route types its decimals `PlainDecimal` (the one
  serializer of decimals in responses), checked on the Pydantic models;
- every GET route is called over seeded data (invoices with quantity 50 and tax rates of
  20%, the values `Decimal.normalize()` writes as ``5E+1`` and ``2E+1``), and every value
  whose schema in the OpenAPI document is a decimal matches ``^-?\\d+(\\.\\d+)?$``.
"""

from __future__ import annotations

import re
import types
import typing
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, get_args, get_origin

from fastapi.routing import APIRoute
from pydantic import BaseModel, PlainSerializer
from tests.e2e.conftest import Api
from tests.e2e.test_api_subscriptions import change, order, spec_account

from billstream.core.decimals import DECIMAL_PATTERN, fixed_point

FIXED_POINT = re.compile(DECIMAL_PATTERN)


def _plain(metadata: list[Any]) -> bool:
    return any(isinstance(m, PlainSerializer) and m.func is fixed_point for m in metadata)


def _bare_decimals(annotation: Any, metadata: list[Any], where: str, seen: set[type]) -> list[str]:
    """The places under `annotation` where a Decimal is written without `PlainDecimal`."""
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        return _bare_decimals(inner, [*metadata, *extra], where, seen)
    if annotation is Decimal:
        return [] if _plain(metadata) else [where]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return []
        seen.add(annotation)
        return [
            bare
            for name, field in annotation.model_fields.items()
            for bare in _bare_decimals(
                field.annotation, list(field.metadata), f"{annotation.__name__}.{name}", seen
            )
        ]
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [
            b for arg in get_args(annotation) for b in _bare_decimals(arg, metadata, where, seen)
        ]
    return [b for arg in get_args(annotation) for b in _bare_decimals(arg, [], where, seen)]


def _api_routes(routes: list[Any]) -> typing.Iterator[APIRoute]:
    """The app's routes, through the routers included in it."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's included router
            yield from _api_routes(route.original_router.routes)


def test_every_response_model_writes_its_decimals_as_plain_decimals(api: Api) -> None:
    # given every route of the app
    routes = list(_api_routes(api.client.app.routes))  # type: ignore[attr-defined]
    # when their response models are walked down to each field
    seen: set[type] = set()
    bare = [
        b
        for route in routes
        if route.response_model is not None
        for b in _bare_decimals(route.response_model, [], route.path, seen)
    ]
    # then no decimal is written by Pydantic's default (which keeps exponents)
    assert seen, "no response model found"
    assert bare == []


def _seed(api: Api) -> tuple[Any, dict[str, str]]:
    """SPEC's account (50 numbers), a 20% tax, two month-end runs and a margin rule."""
    api.clock.set(datetime(2025, 12, 1, tzinfo=UTC))
    caller, account_id, subscription_id = spec_account(api)
    api.created(
        caller,
        "/v1/tax-rates",
        {"jurisdiction": "US", "name": "Sales tax", "rate": "20", "effective_from": "2025-01-01"},
    )
    api.patch(caller, f"/v1/accounts/{account_id}", {"billing_address": {"country": "US"}})
    api.created(caller, "/v1/rating/margin-rules", {"percent": "20", "usage_type": "voice"})
    api.clock.set(datetime(2026, 2, 2, tzinfo=UTC))
    run = api.created(caller, "/v1/bill-runs", {"date": "2025-12-31"})
    api.created(caller, "/v1/bill-runs", {"date": "2026-01-31"})
    [invoice, *_] = api.ok(caller, "/v1/invoices", account_id=account_id)["data"]
    [plan] = api.ok(caller, "/v1/plans")["data"]
    return caller, {
        "account_id": account_id,
        "subscription_id": subscription_id,
        "invoice_id": invoice["id"],
        "bill_run_id": run["id"],
        "plan_id": plan["id"],
        "product_id": plan["charges"][0]["product_id"],
        "tenant_id": caller.tenant_id,
        "until": "2026-02-28",
    }


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _decimals(document: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> list:
    """(path, value) of every value under `value` whose schema is a decimal."""
    schema = _resolve(document, schema)
    if value is None:
        return []
    if schema.get("format") == "decimal":
        return [(where, value)]
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return [
            found
            for branch in branches
            if _resolve(document, branch).get("type") != "null"
            for found in _decimals(document, branch, value, where)
        ]
    if isinstance(value, list):
        return [
            f
            for i, item in enumerate(value)
            for f in _decimals(document, schema.get("items", {}), item, f"{where}[{i}]")
        ]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        out = []
        for key, item in value.items():
            inner = properties.get(key, extra if isinstance(extra, dict) else {})
            out += _decimals(document, inner, item, f"{where}.{key}")
        return out
    return []


def test_every_decimal_of_every_get_response_is_fixed_point(api: Api) -> None:
    # given invoices with quantity 50 and a 20% tax, and everything around them
    caller, known = _seed(api)
    document = api.client.get("/openapi.json").json()
    found: list[tuple[str, Any]] = []
    called = []
    # when every GET route whose parameters the seed can fill is called
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        parameters = operation.get("parameters", [])
        needed = [p["name"] for p in parameters if p["in"] == "path" or p.get("required")]
        if any(name not in known for name in needed):
            continue
        url = path.format(**known)
        query = {n: known[n] for n in needed if not any(
            p["name"] == n and p["in"] == "path" for p in parameters)}  # fmt: skip
        response = api.get(caller, url, **query)
        assert response.status_code == 200, (path, response.text)
        content = operation["responses"]["200"].get("content", {})
        if "application/json" not in content:
            continue
        called.append(path)
        schema = content["application/json"]["schema"]
        found += _decimals(document, schema, response.json(), path)
    # then every decimal is fixed-point, the 50 and the 20 included
    assert "/v1/invoices/{invoice_id}" in called
    bad = [(where, value) for where, value in found if not FIXED_POINT.match(str(value))]
    assert bad == []
    assert ("/v1/invoices/{invoice_id}.lines[0].quantity", "50") in found
    assert ("/v1/invoices/{invoice_id}.taxes[0].rate", "20") in found
    assert any(where.startswith("/v1/tax-rates") and v == "20" for where, v in found)


def test_a_quantity_sent_with_an_exponent_is_recorded_and_shown_plainly(api: Api) -> None:
    # given the numbers plan and an account
    api.clock.set(datetime(2025, 12, 1, tzinfo=UTC))
    caller, account_id, _ = spec_account(api)
    # when an order and a change send their quantities as "5E+1" and "6.0E1"
    sub = order(api, caller, account_id=account_id, plan="numbers", quantity="5E+1",
                start_date="2026-01-01")  # fmt: skip
    change(api, caller, sub["id"], kind="quantity", quantity="6.0E1", effective="date",
           date="2026-01-16")  # fmt: skip
    # then the states its changes record say 50 and 60, and the subscription 50 today
    changes = api.ok(caller, f"/v1/subscriptions/{sub['id']}/changes")
    assert [c["after"]["quantity"] for c in changes] == ["50", "60"]
    assert changes[1]["before"]["quantity"] == "50"
    assert api.ok(caller, f"/v1/subscriptions/{sub['id']}")["quantity"] == "50"  # on Dec 1
