"""No API call of one tenant reads, changes or reveals another's data (DESIGN: Tenancy).

Tenant B, with a key scoped to its descendants, calls EVERY operation of the OpenAPI document
aimed at tenant A's data: path parameters and id-naming query parameters carry A's ids, and
request bodies are generated from each operation's schema with A's ids in every `*_id`
property and A's numbers in every number field. A route added later is walked by itself;
if it takes a path parameter or an `*_id` field this file does not know, the test fails
asking for it to be registered below.

Between two brands of one parent (siblings), every body field naming a row (`*_id`, a bill
run's `accounts`) is walked one at a time on B's own valid request: A's real id must get
exactly the answer an id nobody holds gets (an existence oracle otherwise), that answer must
come from the id's own check (the problem names the field: the walk really reached it), and
no row may end up pointing at either id.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from httpx2 import Response
from sqlalchemy import String, Table, func, or_, select
from sqlalchemy.orm import Session
from tests.e2e.conftest import Api, Caller

from billstream.migrations.models import metadata

# Path parameters, id-naming query parameters and `*_id` body fields the walk knows how to
# fill. A new one: add it to `Tenant.refs` below (and to REFERENCES if it points at a row).
REFERENCES = frozenset(
    {
        "tenant_id",
        "parent_id",
        "account_id",
        "number_id",
        "api_key_id",
        "subscription_id",
        "plan_id",
        "product_id",
        "file_id",
        "run_id",
        "invoice_id",
        "bill_run_id",
    }
)
NUMBER_FIELDS = frozenset({"number", "numbers", "e164"})
# Columns whose values identify a tenant's data; B's responses must show none of A's.
IDENTIFYING = frozenset(
    {
        "id",
        "name",
        "slug",
        "e164",
        "email",
        "contact_name",
        "brand_name",
        "secret_hash",
        "key",
        "record_key",
    }
)
REFUSED = frozenset({403, 404, 409, 422})
# Pointing at A's row from B's own data must not find it: a 409 would mean it did.
NOT_FOUND = frozenset({403, 404, 422})
JAN, FEB = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
INSIDE_A_PERIOD = "2026-01-20T00:00:00Z"
LATER = "2026-03-01T00:00:00Z"


@dataclass
class Tenant:
    """A company's ids by parameter name, its numbers, and the key it calls with."""

    caller: Caller
    tenant_ids: list[str]
    refs: dict[str, str]
    numbers: list[str]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


CATALOG = """\
effective_from: 2026-01-01
products:
  - {code: numbers, name: %(name)s Numbers, kind: recurring}
plans:
  - code: numbers-monthly
    name: %(name)s Numbers Monthly
    currencies: [GBP]
    charges:
      - code: numbers
        product: numbers
        prices: [{currency: GBP, model: {type: per_unit, unit_price: 5.00}}]
customer_prices:
  - {account: %(account)s, product: numbers, currency: GBP,
     model: {type: per_unit, unit_price: 4.00}}
"""


def _catalog(api: Api, caller: Caller, name: str, account: str) -> tuple[str, str]:
    """Apply a small catalogue (a product, a plan, a customer price); (product id, plan id)."""
    text = CATALOG % {"name": name, "account": account}
    response = api.call(
        caller,
        "POST",
        "/v1/catalog/apply",
        content=text.encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    [plan] = api.ok(caller, "/v1/plans")["data"]
    return plan["charges"][0]["product_id"], plan["id"]


def _subscription(api: Api, caller: Caller, account_id: str, external_id: str) -> str:
    """An order of the catalogue's plan, and a change to it; the subscription's id."""
    order = {
        "account_id": account_id,
        "plan": "numbers-monthly",
        "quantity": 3,
        "start_date": "2026-01-01",
        "external_id": external_id,
    }
    subscription = api.created(caller, "/v1/subscriptions", order)
    api.created(
        caller,
        f"/v1/subscriptions/{subscription['id']}/changes",
        {
            "kind": "quantity",
            "quantity": 4,
            "effective": "date",
            "date": "2026-01-20",
            "reason": "two more numbers",
        },
    )
    return str(subscription["id"])


def _usage(api: Api, caller: Caller, prefix: str, number: str) -> str:
    """Usage events: one routed to `number`'s holder, one rejected; the arrival's id."""
    events = [
        {"record_key": f"{prefix}-ev-1", "started_at": INSIDE_A_PERIOD, "called": number},
        {"record_key": f"{prefix}-ev-2", "started_at": INSIDE_A_PERIOD, "called": "+441632960999"},
    ]
    arrival = api.created(caller, "/v1/usage/events", {"events": events})
    assert (arrival["accepted"], arrival["rejected"]) == (1, 1), arrival
    return str(arrival["id"])


def _rating_run(api: Api, caller: Caller) -> str:
    """January rated (no card: every record a "no rate" reject, but a run all the same)."""
    body = {"period_start": "2026-01-01", "period_end": "2026-02-01"}
    return str(api.created(caller, "/v1/rating/runs", body)["id"])


def _invoice(api: Api, caller: Caller, key: str) -> tuple[str, str]:
    """Every paying account billed up to Jan 14 (the subscription's January, in advance)."""
    run = api.created(
        caller, "/v1/bill-runs", {"date": "2026-01-14", "all_accounts": True, "key": key}
    )
    assert run["invoiced"] >= 1, run
    [invoice, *_] = api.ok(caller, "/v1/invoices", bill_run_id=run["id"])["data"]
    return str(run["id"]), str(invoice["id"])


def _company_a(api: Api, parent: str | None = None) -> Tenant:
    """Group A with a brand, an account tree, numbers held over time, keys, idempotency
    (top-level, or a brand of `parent`)."""
    a = api.tenant(
        parent=parent, slug="alpha", name="Alpha Holdings", currency="GBP", locale="en_GB"
    )
    brand = api.created(
        a, "/v1/tenants", {"parent_id": a.tenant_id, "slug": "alpha-ie", "name": "Alpha Eire"}
    )
    abc = api.post(
        a,
        "/v1/accounts",
        {"name": "Alpha Org ABC", "external_id": "alpha-crm-1", "email": "ops@alpha.example"},
        idempotency_key="alpha-create-abc",
    ).json()
    support = api.created(
        a, "/v1/accounts", {"name": "Alpha Support", "parent_id": abc["id"], "contact_name": "Ann"}
    )
    tier1 = api.created(
        a,
        "/v1/accounts",
        {"name": "Alpha Tier1", "parent_id": support["id"], "billing_mode": "billed_to_parent"},
    )
    in_brand = api.created(
        a, "/v1/accounts", {"name": "Alpha Eire Customer", "tenant_id": brand["id"]}
    )
    numbers = api.created(a, "/v1/numbers", {"numbers": ["+442071234567", "+448001234567"]})
    [brand_number] = api.created(
        a, "/v1/numbers", {"numbers": ["+35312345678"], "tenant_id": brand["id"]}
    )
    api.created(
        a,
        f"/v1/numbers/{numbers[0]['id']}/assign",
        {"account_id": abc["id"], "valid_from": JAN, "valid_to": FEB},
    )
    api.created(
        a,
        f"/v1/numbers/{brand_number['id']}/assign",
        {"account_id": in_brand["id"], "valid_from": "2026-01-01T00:00:00Z"},
    )
    key = api.created(a, "/v1/api-keys", {"name": "Alpha CRM sync"})
    product_id, plan_id = _catalog(api, a, "Alpha", "alpha-crm-1")
    subscription = _subscription(api, a, abc["id"], "alpha-sub-1")
    api.created(  # tier1 is below abc: abc's subscription may cover its number
        a,
        f"/v1/numbers/{numbers[0]['id']}/assign",
        {"account_id": tier1["id"], "valid_from": FEB, "subscription_id": subscription},
    )
    usage_file = _usage(api, a, "alpha", numbers[0]["e164"])
    refs = {
        "tenant_id": a.tenant_id,
        "parent_id": abc["id"],
        "account_id": support["id"],
        "number_id": numbers[0]["id"],
        "api_key_id": key["id"],
        "subscription_id": subscription,
        "external_id": "alpha-crm-1",
        "product_id": product_id,
        "plan_id": plan_id,
        "file_id": usage_file,
        "run_id": _rating_run(api, a),
        **dict(zip(("bill_run_id", "invoice_id"), _invoice(api, a, "alpha-close"), strict=True)),
        "kind": "invoice",  # a document template's kind (a path parameter, not an id)
        "position": "1",  # an invoice line's position
    }
    all_numbers = [n["e164"] for n in numbers] + [brand_number["e164"]]
    return Tenant(a, [a.tenant_id, brand["id"]], refs, all_numbers)


def _company_b(api: Api, parent: str | None = None) -> Tenant:
    """Company B: an account holding a number, and a second key (top-level, or a brand of
    `parent`)."""
    b = api.tenant(
        parent=parent, slug="bravo", name="Bravo Telecom", currency="GBP", locale="en_GB"
    )
    account = api.created(b, "/v1/accounts", {"name": "Bravo Customer", "external_id": "b-1"})
    [number] = api.created(b, "/v1/numbers", {"numbers": ["+442079460000"]})
    api.created(
        b,
        f"/v1/numbers/{number['id']}/assign",
        {"account_id": account["id"], "valid_from": "2026-01-01T00:00:00Z"},
    )
    key = api.created(b, "/v1/api-keys", {"name": "Bravo spare"})
    product_id, plan_id = _catalog(api, b, "Bravo", "b-1")
    subscription = _subscription(api, b, account["id"], "b-sub-1")
    usage_file = _usage(api, b, "bravo", number["e164"])
    refs = {
        "tenant_id": b.tenant_id,
        "parent_id": account["id"],
        "account_id": account["id"],
        "number_id": number["id"],
        "api_key_id": key["id"],
        "subscription_id": subscription,
        "external_id": "b-1",
        "product_id": product_id,
        "plan_id": plan_id,
        "file_id": usage_file,
        "run_id": _rating_run(api, b),
        **dict(zip(("bill_run_id", "invoice_id"), _invoice(api, b, "bravo-close"), strict=True)),
        "kind": "invoice",
        "position": "1",
    }
    return Tenant(b, [b.tenant_id], refs, [number["e164"]])


# --- the snapshot of a tenant's rows -------------------------------------------------------


def _owner_filter(table: Table, tenant_ids: list[str]) -> Any:
    """Rows of `tenant_ids` in `table`: by its tenant_id, or through the row it belongs to."""
    if table.name == "tenants":
        return table.c.id.in_(tenant_ids)
    if "tenant_id" in table.c:
        return table.c.tenant_id.in_(tenant_ids)
    for fk in table.foreign_keys:
        owner = fk.column.table
        if "tenant_id" in owner.c:
            owned = select(fk.column).where(owner.c.tenant_id.in_(tenant_ids))
            return fk.parent.in_(owned)
    pytest.fail(f"table {table.name} has no tenant_id and no foreign key to a tenant's row")


def snapshot(session: Session, tenant_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tenants, table by table, ordered by primary key."""
    out = {}
    for table in metadata.sorted_tables:
        stmt = select(table).where(_owner_filter(table, tenant_ids))
        rows = session.execute(stmt.order_by(*table.primary_key.columns)).mappings()
        out[table.name] = [dict(row) for row in rows]
    return out


def identifiers(rows: Mapping[str, list[dict[str, Any]]]) -> set[str]:
    return {
        str(value)
        for table in rows.values()
        for row in table
        for column, value in row.items()
        if value is not None and (column in IDENTIFYING or column.endswith("_id"))
    }


# --- requests from the OpenAPI document ----------------------------------------------------


def operations(document: dict[str, Any]) -> list[Operation]:
    return [
        Operation(method, path, spec)
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    ]


class Form(dict[str, Any]):
    """A multipart form body: its fields, of which `uploads` are sent as files."""

    uploads: frozenset[str] = frozenset()


def _is_upload(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "binary" or "contentMediaType" in schema


class Requests:
    """Builds the request of an operation aimed at `target` (its ids, its numbers)."""

    def __init__(self, document: dict[str, Any], target: Tenant) -> None:
        self.components = document["components"]["schemas"]
        self.target = target
        self.slugs = itertools.count()

    def ref(self, name: str, where: str) -> str:
        if name not in self.target.refs:
            pytest.fail(
                f"{where}: the isolation walk does not know {name!r}; register an id of tenant "
                f"A for it in _company_a and _company_b (tests/e2e/test_api_isolation.py)"
            )
        return self.target.refs[name]

    def path(self, op: Operation) -> str:
        path = op.path
        for param in op.spec.get("parameters", []):
            if param["in"] == "path":
                path = path.replace(f"{{{param['name']}}}", self.ref(param["name"], str(op)))
        assert "{" not in path, f"{op}: a path parameter is not declared"
        return path

    def query(self, op: Operation) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for param in op.spec.get("parameters", []):
            name = param["name"]
            if param["in"] != "query":
                continue
            if name.endswith("_id"):
                params[name] = self.ref(name, f"{op} ?{name}")
            elif name in NUMBER_FIELDS:
                params[name] = self.target.numbers[0]
            elif param.get("required"):
                params[name] = self.value(name, param["schema"], str(op))
        return params

    def body(self, op: Operation, *, omit: frozenset[str] = frozenset()) -> Any:
        content = op.spec.get("requestBody", {}).get("content", {})
        if "multipart/form-data" in content:
            schema = self.resolve(content["multipart/form-data"]["schema"])
            form = Form(self.value("body", schema, str(op), omit=omit))
            properties = schema.get("properties", {})
            form.uploads = frozenset(n for n in form if _is_upload(self.resolve(properties[n])))
            return form
        if "application/json" not in content:
            return None
        return self.value("body", content["application/json"]["schema"], str(op), omit=omit)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while True:
            if "$ref" in schema:
                schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
            elif "anyOf" in schema:
                schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
            elif "allOf" in schema and len(schema["allOf"]) == 1:
                schema = schema["allOf"][0]
            else:
                return schema

    def value(
        self,
        name: str,
        schema: dict[str, Any],
        where: str,
        *,
        index: int = 0,
        omit: frozenset[str] = frozenset(),
    ) -> Any:
        schema = self.resolve(schema)
        kind = schema.get("type")
        if name.endswith("_id"):
            return self.ref(name, f"{where} {name}")
        if name in NUMBER_FIELDS:
            numbers = self.target.numbers
            return list(numbers) if kind == "array" else numbers[index % len(numbers)]
        if "enum" in schema:
            return schema["enum"][0]
        if kind == "object":
            return self.object(schema, where, index=index, omit=omit)
        if kind == "array":
            count = max(schema.get("minItems", 1), len(self.target.numbers))
            return [self.value(name, schema["items"], where, index=i) for i in range(count)]
        if kind == "string":
            return self.string(name, schema)
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return schema.get("minimum", 1)
        if kind == "boolean":
            return False
        pytest.fail(f"{where} {name}: cannot make a value of schema {schema}")

    def object(
        self, schema: dict[str, Any], where: str, *, index: int, omit: frozenset[str]
    ) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        wanted = [
            name
            for name in properties
            if name in required or name.endswith("_id") or name in NUMBER_FIELDS
        ]
        return {
            name: self.value(name, properties[name], where, index=index)
            for name in wanted
            if name not in omit or name in required
        }

    def string(self, name: str, schema: dict[str, Any]) -> str:
        if _is_upload(schema):  # an uploaded file: what it holds is the route's own business
            return "walked\n"
        if schema.get("format") == "date-time":
            return LATER if name.endswith("_to") else INSIDE_A_PERIOD
        if schema.get("format") == "date":
            return INSIDE_A_PERIOD[:10]
        hints = {
            "slug": f"walk-{next(self.slugs)}",
            "currency": "GBP",
            "country": "GB",
            "format": "asterisk-cdr-csv",
        }
        if name in hints:
            return hints[name]
        if schema.get("maxLength") == 2:
            return "GB"
        return "Walked"


# --- the walk ------------------------------------------------------------------------------


def _sent(op: Operation, path: str, query: Mapping[str, Any], body: Any) -> str:
    return f"{op.method} {path} {json.dumps(query)} {json.dumps(body)}"


def _leaks(response: Response, secrets: set[str], sent: str) -> list[str]:
    """A's identifiers in the response that the request did not carry itself."""
    return sorted(s for s in secrets if s in response.text and s not in sent)


def _queries(query: dict[str, Any]) -> list[dict[str, Any]]:
    """`query` whole, then none, then (if it has several parameters) each alone."""
    if not query:
        return [query]
    alone = [{name: value} for name, value in query.items()] if len(query) > 1 else []
    return [query, {}, *alone]


def _call(api: Api, caller: Caller, op: Operation, path: str, query: Any, body: Any) -> Response:
    if isinstance(body, Form):
        files = {name: (f"{name}.csv", str(body[name]).encode()) for name in body.uploads}
        fields = {name: value for name, value in body.items() if name not in body.uploads}
        return api.client.request(
            op.method.upper(),
            path,
            params=query or None,
            headers=caller.headers,
            data=fields,
            files=files,
        )
    return api.call(caller, op.method.upper(), path, params=query or None, json=body)


@pytest.fixture
def two_companies(api: Api) -> tuple[Tenant, Tenant]:
    return _company_a(api), _company_b(api)


def test_tenant_b_cannot_reach_tenant_a_through_any_operation(
    api: Api, two_companies: tuple[Tenant, Tenant]
) -> None:
    # given company A (a brand, accounts, numbers held, keys) and company B, each its own data
    a, b = two_companies
    document = api.client.app.openapi()  # type: ignore[attr-defined]
    ops = operations(document)
    before = snapshot(api.session, a.tenant_ids)
    secrets = identifiers(before) - identifiers(snapshot(api.session, b.tenant_ids))
    assert {"Alpha Org ABC", "+442071234567", a.refs["api_key_id"], a.refs["subscription_id"]} <= (
        secrets
    )
    aimed_at_a = Requests(document, a)
    failures: list[str] = []
    succeeded: list[str] = []

    # when B calls every operation aimed at A's ids and numbers (a list also unfiltered and
    # with each filter alone, so that no filter hides another)
    calls = [
        (op, aimed_at_a.path(op), query, aimed_at_a.body(op))
        for op in ops
        for query in _queries(aimed_at_a.query(op))
    ]
    for op, path, query, body in calls:
        response = _call(api, b.caller, op, path, query, body)
        sent = _sent(op, path, query, body)
        reads_many = "{" not in op.path and not (isinstance(body, dict) and REFERENCES & set(body))
        if response.status_code < 300 and reads_many:
            succeeded.append(str(op))
        elif response.status_code not in REFUSED:
            failures.append(f"{op} {sent}: {response.status_code} {response.text}")
        if leaks := _leaks(response, secrets, sent):
            failures.append(f"{op} {sent}: shows A's {leaks}: {response.text}")

    # then each was refused or showed nothing of A's, and A's rows are exactly as they were
    assert failures == []
    assert snapshot(api.session, a.tenant_ids) == before
    assert sorted(set(succeeded)) == sorted(
        [str(op) for op in ops if "{" not in op.path and op.method == "get"]
        + ["POST /v1/numbers/lookup"]
    )
    assert {str(op) for op, *_ in calls} == {str(op) for op in ops}
    assert len(ops) >= 21  # every operation of the document was walked
    assert len(calls) >= len(ops) + 8  # and lists unfiltered and by each filter alone


def test_b_on_its_own_paths_cannot_point_at_a_from_the_body(
    api: Api, two_companies: tuple[Tenant, Tenant]
) -> None:
    # given A and B
    a, b = two_companies
    document = api.client.app.openapi()  # type: ignore[attr-defined]
    ops = operations(document)
    before = snapshot(api.session, a.tenant_ids)
    secrets = identifiers(before) - identifiers(snapshot(api.session, b.tenant_ids))
    own_paths, aimed_at_a = Requests(document, b), Requests(document, a)
    failures: list[str] = []
    statuses: dict[str, int] = {}

    # when B calls every operation on its own ids, with A's ids in the body (tenant_id left
    # out, so the operation runs in B's tenant) and A's numbers in the body
    for op in ops:
        path, query = own_paths.path(op), own_paths.query(op)
        body = aimed_at_a.body(op, omit=frozenset({"tenant_id"}))
        response = _call(api, b.caller, op, path, query, body)
        statuses[str(op)] = response.status_code
        sent = _sent(op, path, query, body)
        points_at_a = isinstance(body, dict) and bool(REFERENCES & set(body))
        if points_at_a and response.status_code not in NOT_FOUND:
            failures.append(f"{op} {sent}: {response.status_code} {response.text}")
        if response.status_code >= 500:
            failures.append(f"{op} {sent}: {response.status_code} {response.text}")
        if leaks := _leaks(response, secrets, sent):
            failures.append(f"{op} {sent}: shows A's {leaks}: {response.text}")

    # then every reference to A was refused, nothing of A's showed, and A is unchanged
    assert failures == []
    assert snapshot(api.session, a.tenant_ids) == before
    # and B's own reads worked (the walk can fail)
    assert statuses["GET /v1/accounts/{account_id}"] == 200
    assert statuses["GET /v1/numbers/{number_id}/assignments"] == 200
    assert statuses["GET /v1/tenants/{tenant_id}"] == 200
    assert statuses["GET /v1/subscriptions/{subscription_id}/changes"] == 200
    assert statuses["GET /v1/accounts/{account_id}/upcoming-charges"] == 200
    assert statuses["GET /v1/plans/{plan_id}/prices"] == 200
    assert statuses["GET /v1/products/{product_id}"] == 200
    assert statuses["POST /v1/accounts/{account_id}/move"] == 404
    assert statuses["POST /v1/numbers/{number_id}/assign"] == 404
    assert statuses["GET /v1/usage/files/{file_id}"] == 200
    assert statuses["POST /v1/usage/files"] == 201  # the multipart upload, in B's own tenant
    assert len(statuses) == len(ops)


def test_b_sees_its_own_data_and_nothing_of_a(
    api: Api, two_companies: tuple[Tenant, Tenant]
) -> None:
    # given A and B
    a, b = two_companies

    # when B lists and looks up
    accounts = api.ok(b.caller, "/v1/accounts")
    numbers = api.ok(b.caller, "/v1/numbers")
    tenants = api.ok(b.caller, "/v1/tenants")
    lookup = api.post(
        b.caller,
        "/v1/numbers/lookup",
        {"queries": [{"number": n, "at": INSIDE_A_PERIOD} for n in b.numbers + a.numbers]},
    )

    # then it sees exactly its own rows, and A's numbers are held by nobody it can see
    assert [x["name"] for x in accounts["data"]] == ["Bravo Customer"]
    assert [x["e164"] for x in numbers["data"]] == b.numbers
    assert [x["id"] for x in tenants["data"]] == [b.tenant_ids[0]]
    assert lookup.status_code == 200, lookup.text
    holders = [row["account_id"] for row in lookup.json()]
    assert holders == [b.refs["account_id"], None, None, None]
    # and A, asking the same, sees its own holder
    own = api.post(
        a.caller,
        "/v1/numbers/lookup",
        {"queries": [{"number": a.numbers[0], "at": INSIDE_A_PERIOD}]},
    )
    assert own.json()[0]["account_id"] is not None


def test_an_idempotency_key_of_a_does_not_replay_for_b(
    api: Api, two_companies: tuple[Tenant, Tenant]
) -> None:
    # given A created an account with Idempotency-Key "alpha-create-abc"
    a, b = two_companies
    body = {"name": "Alpha Org ABC", "external_id": "alpha-crm-1", "email": "ops@alpha.example"}

    # when B sends the same request with the same key
    response = api.post(b.caller, "/v1/accounts", body, idempotency_key="alpha-create-abc")

    # then B gets an account of its own, not A's response
    assert response.status_code == 201, response.text
    assert "Idempotent-Replayed" not in response.headers
    assert response.json()["tenant_id"] == b.tenant_ids[0]
    assert a.refs["parent_id"] not in response.text


# --- ids of a sibling in request bodies ----------------------------------------------------

# Body fields naming rows besides `*_id` ones: a bill run's `accounts`.
ID_LISTS = frozenset({"accounts"})
# Which id of the sibling a body field takes where the field's name alone does not say.
FIELD_REFS = {("/v1/tenants", "parent_id"): "tenant_id", ("", "accounts"): "account_id"}
# Hints that make B's own body valid, so that the walk reaches each id's check.
VALID = {
    "period_start": "2026-01-01",
    "period_end": "2026-02-01",
    "valid_from": "2025-06-01T00:00:00Z",  # before B's number is held
    "valid_to": "2025-07-01T00:00:00Z",
    "date": "2026-01-14",  # a closed period
    "body": "<p>walked</p>",  # a document template
}


def _body_fields(op: Operation, requests: Requests) -> list[str]:
    """The top-level body fields of `op` that name a row by id."""
    body = requests.body(op)
    content = op.spec.get("requestBody", {}).get("content", {})
    schema = next(iter(content.values()), {}).get("schema", {}) if content else {}
    properties = requests.resolve(schema).get("properties", {}) if schema else {}
    names = set(properties) | (set(body) if isinstance(body, dict) else set())
    return sorted(n for n in names if (n in REFERENCES or n in ID_LISTS) and n != "external_id")


def _sibling_ref(op: Operation, field: str, sibling: Tenant) -> str:
    key = FIELD_REFS.get((op.path, field)) or FIELD_REFS.get(("", field)) or field
    return sibling.refs[key]


def _unknown_like(real: str) -> str:
    """An id of the same shape as `real` that nobody holds."""
    prefix, _, rest = real.rpartition("_")
    return f"{prefix}_{'f' * len(rest)}" if prefix else "f" * len(real)


def _valid(body: Any) -> Any:
    """B's own body made valid by `VALID`, without an `external_id` (B's is taken)."""
    out = Form(body) if isinstance(body, Form) else dict(body)
    if isinstance(body, Form):
        out.uploads = body.uploads
    out.update({name: value for name, value in VALID.items() if name in body})
    if "valid_from" in out:  # a closed period: an open one would overlap B's holder
        out["valid_to"] = VALID["valid_to"]
    out.pop("external_id", None)
    return out


def _with(body: Any, field: str, value: str) -> Any:
    out = Form(body) if isinstance(body, Form) else dict(body)
    if isinstance(body, Form):
        out.uploads = body.uploads
    out[field] = [value] if field in ID_LISTS else value
    return out


def _pointing_at(session: Session, value: str) -> int:
    """Rows of any table with `value` in one of their text columns."""
    total = 0
    for table in metadata.sorted_tables:
        columns = [c for c in table.c if isinstance(c.type, String)]
        if columns:
            stmt = (
                select(func.count()).select_from(table).where(or_(*(c == value for c in columns)))
            )
            total += int(session.scalar(stmt) or 0)
    return total


def _same_answer(sibling: Response, unknown: Response, sibling_id: str, unknown_id: str) -> bool:
    if sibling.status_code != unknown.status_code:
        return False
    if sibling.status_code < 300:
        return True  # both created something: _pointing_at decides
    return bool(sibling.text == unknown.text.replace(unknown_id, sibling_id))


def test_a_siblings_id_in_a_body_answers_as_an_unknown_id(api: Api) -> None:
    # given two brands A and B of one parent company, each with its own data
    group = api.tenant(slug="group", name="Group", currency="GBP", locale="en_GB")
    a, b = _company_a(api, group.tenant_id), _company_b(api, group.tenant_id)
    document = api.client.app.openapi()  # type: ignore[attr-defined]
    own = Requests(document, b)
    failures: list[str] = []
    reached: list[str] = []

    # when B calls every operation with a body naming a row, on its own paths with its own
    # ids, but one field at a time set to A's id, and to an id nobody holds
    for op in operations(document):
        for field in _body_fields(op, own):
            sibling_id = _sibling_ref(op, field, a)
            unknown_id = _unknown_like(sibling_id)
            body = _valid(own.body(op))
            path, query = own.path(op), own.query(op)
            before = _pointing_at(api.session, sibling_id), _pointing_at(api.session, unknown_id)
            unknown = _call(api, b.caller, op, path, query, _with(body, field, unknown_id))
            sibling = _call(api, b.caller, op, path, query, _with(body, field, sibling_id))
            after = _pointing_at(api.session, sibling_id), _pointing_at(api.session, unknown_id)
            where = f"{op} {field}"
            # then the answers are the same but for the id, and nothing points at either id
            if not _same_answer(sibling, unknown, sibling_id, unknown_id):
                failures.append(
                    f"{where}: sibling {sibling.status_code} {sibling.text} / "
                    f"unknown {unknown.status_code} {unknown.text}"
                )
            if after != before:
                failures.append(f"{where}: rows now point at the id ({before} -> {after})")
            problem = unknown.json() if unknown.status_code >= 400 else {}
            if str(problem.get("field") or "").split(".")[0].split("[")[0] == field:
                reached.append(where)
            else:
                failures.append(
                    f"{where}: the walk did not reach the id's check: "
                    f"{unknown.status_code} {unknown.text}"
                )

    assert not failures, "\n".join(failures)
    assert len(reached) >= 20
