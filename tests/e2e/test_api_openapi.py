"""The OpenAPI document says what the API answers: problems, their shape, Idempotency-Key."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import Api, assert_problem

from billstream.api.problems import PROBLEM_MEDIA_TYPE
from billstream.app import create_app

PROBLEM = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_behind_the_key_documents_the_problems_it_can_answer(
    document: dict[str, Any],
) -> None:
    # given the document's operations that require the API key
    keyed = [op for op in _operations(document) if op[2].get("security")]
    assert len(keyed) > 60
    assert all(path.startswith("/v1/") for _, path, _ in keyed)
    for method, path, operation in keyed:
        responses = operation["responses"]
        parameters = operation.get("parameters", [])
        # then: 401 always; 404 with an id in the path; 409 on a write; 422 with any input
        expected = {"401"}
        if any(p["in"] == "path" for p in parameters):
            expected.add("404")
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            expected.add("409")
        if parameters or "requestBody" in operation:
            expected.add("422")
        if "requestBody" in operation:
            expected.add("400")
        assert expected <= set(responses), (method, path, sorted(responses))


def test_every_problem_response_is_problem_json_with_the_problem_details_schema(
    document: dict[str, Any],
) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                assert response["content"] == PROBLEM, (method, path, status)
                assert response["description"] != "Validation Error", (method, path)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    problem = schemas["ProblemDetails"]
    assert set(problem["required"]) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "field",
        "instance",
    }
    assert set(problem["properties"]) == set(problem["required"]) | {"errors"}


def test_a_receipt_route_documents_its_conflict(document: dict[str, Any]) -> None:
    # a receipt of an unpaid invoice is a 409, on a GET
    for kind in ("pdf", "html"):
        responses = document["paths"][f"/v1/invoices/{{invoice_id}}/{kind}"]["get"]["responses"]
        assert "409" in responses


def test_creating_a_sub_tenant_documents_permission_denied(
    api: Api, document: dict[str, Any]
) -> None:
    # given a key without descendants, which may not create sub-tenants
    top = api.tenant(slug="top", name="Top", currency="GBP")
    plain = api.key(top.tenant_id, descendants=False)
    response = api.post(
        plain, "/v1/tenants", {"parent_id": top.tenant_id, "slug": "b", "name": "B"}
    )
    # then the 403 it gets is in the document
    assert_problem(response, status=403, code="permission_denied", field="parent_id")
    assert "403" in document["paths"]["/v1/tenants"]["post"]["responses"]


def test_a_tenant_id_in_the_body_documents_not_found(document: dict[str, Any]) -> None:
    # POST /v1/subscriptions names an account_id, POST /v1/tax-rates a tenant_id
    assert "404" in document["paths"]["/v1/subscriptions"]["post"]["responses"]
    assert "404" in document["paths"]["/v1/tax-rates"]["post"]["responses"]


def test_every_post_documents_the_idempotency_key_header(document: dict[str, Any]) -> None:
    posts = [op for op in _operations(document) if op[0] == "POST" and op[2].get("security")]
    assert len(posts) > 25
    for _, path, operation in posts:
        [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header", path
        assert header["required"] is False
        assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}
    others = [op for op in _operations(document) if op[0] != "POST"]
    for _, path, operation in others:
        names = {p["name"] for p in operation.get("parameters", [])}
        assert "Idempotency-Key" not in names, path


def test_sent_problems_have_exactly_the_documented_fields(api: Api) -> None:
    # given the schema of a problem
    schema = create_app().openapi()["components"]["schemas"]["ProblemDetails"]
    caller = api.tenant(slug="doc", name="Doc", currency="GBP")
    # when a request fails validation (with every error listed) and one fails auth
    invalid = api.call(caller, "POST", "/v1/accounts", json={"name": 5})
    unauthenticated = api.call(None, "GET", "/v1/accounts")
    # then each body has the required fields and no undocumented one
    for response in (invalid, unauthenticated):
        body = response.json()
        assert set(schema["required"]) <= set(body) <= set(schema["properties"])
    assert_problem(invalid, status=422, code="invalid_input", field="name")
    assert invalid.json()["errors"][0]["field"] == "name"
    assert "errors" not in unauthenticated.json()


def test_a_method_not_allowed_says_which_are(api: Api) -> None:
    caller = api.tenant(slug="doc", name="Doc", currency="GBP")
    response = api.call(caller, "PUT", "/v1/accounts")
    assert_problem(response, status=405, code="method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_allow_joins_every_route_the_path_matches(api: Api) -> None:
    # /v1/bill-runs/dry-run is POST of its own and GET of /v1/bill-runs/{bill_run_id}
    caller = api.tenant(slug="doc", name="Doc", currency="GBP")
    response = api.call(caller, "DELETE", "/v1/bill-runs/dry-run")
    assert_problem(response, status=405, code="method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
