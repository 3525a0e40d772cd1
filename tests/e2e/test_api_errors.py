"""Bad input gets an RFC 9457 problem naming the field and the reason, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem


@pytest.fixture
def uk(api: Api) -> Caller:
    return api.tenant(currency="GBP", locale="en_GB")


@pytest.fixture
def abc(api: Api, uk: Caller) -> dict[str, str]:
    """ABC with Support below it, and an external id taken."""
    abc = api.created(uk, "/v1/accounts", {"name": "ABC", "external_id": "crm-abc"})
    support = api.created(uk, "/v1/accounts", {"name": "Support", "parent_id": abc["id"]})
    return {"ABC": abc["id"], "Support": support["id"]}


def _refused(
    api: Api, response: Any, *, status: int, code: str, field: str | None
) -> dict[str, Any]:
    """A problem as asked, and the caller checks nothing was written."""
    return assert_problem(response, status=status, code=code, field=field)


def test_malformed_json_is_400(api: Api, uk: Caller) -> None:
    # given a body that is not JSON
    counts = api.counts()

    # when it is posted
    response = api.call(
        uk,
        "POST",
        "/v1/accounts",
        content=b'{"name": "Acme",',
        headers={"content-type": "application/json"},
    )

    # then it is a 400 malformed_json problem, and nothing is written
    body = assert_problem(response, status=400, code="malformed_json", field="body")
    assert body["instance"] == "/v1/accounts"
    assert api.counts() == counts


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"name": "Acme", "colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"type": "customer"}, "name", "Field required"),
        ({"name": 42}, "name", "Input should be a valid string"),
        ({"name": "A", "payment_terms_days": "thirty"}, "payment_terms_days", None),
        ({"name": "A", "payment_terms_days": 400}, "payment_terms_days", None),
        ({"name": "A", "auto_pay": "maybe"}, "auto_pay", None),
        ({"name": "A", "type": "friend"}, "type", None),
        ({"name": "A", "billing_address": {"city": "Paris"}}, "billing_address.country", None),
        ({"name": "A", "billing_address": {"country": "ZZ"}}, "billing_address.country", None),
        ({"name": "A", "email": "not-an-address"}, "email", None),
        ({"name": "A", "phone": "12"}, "phone", None),
        ({"name": "A", "currency": "ABC"}, "currency", None),
        ({"name": "A", "language": "xx_XX"}, "language", None),
        ({"name": "A", "billing_cycle": "anniversary"}, "billing_day", None),
        ({"name": "   "}, "name", None),
        ([{"name": "A"}], "body", None),
    ],
)
def test_invalid_account_input_is_422_naming_the_field(
    api: Api, uk: Caller, body: Any, field: str, reason: str | None
) -> None:
    # given a tenant
    counts = api.counts()

    # when an account with bad input is posted
    response = api.post(uk, "/v1/accounts", body)

    # then it is a 422 naming the field, and nothing is written
    problem = assert_problem(response, status=422, code="invalid_input", field=field)
    if reason is not None:
        assert problem["detail"] == f"{field}: {reason}"
        assert problem["errors"][0]["field"] == field
    assert api.counts() == counts


def test_an_empty_body_is_422(api: Api, uk: Caller) -> None:
    # given no body at all
    # when an account is posted
    response = api.call(uk, "POST", "/v1/accounts")

    # then the body is named as missing
    assert_problem(response, status=422, code="invalid_input", field="body")


def test_a_cycle_is_409(api: Api, uk: Caller, abc: dict[str, str]) -> None:
    # given ABC above Support
    counts = api.counts()

    # when ABC is moved below Support
    response = api.post(uk, f"/v1/accounts/{abc['ABC']}/move", {"parent_id": abc["Support"]})

    # then it is refused and ABC stays on top
    assert_problem(response, status=409, code="account_cycle", field="parent_id")
    assert api.counts() == counts
    assert api.ok(uk, f"/v1/accounts/{abc['ABC']}")["parent_id"] is None


def test_a_taken_external_id_is_409(api: Api, uk: Caller, abc: dict[str, str]) -> None:
    # given ABC with external id crm-abc
    counts = api.counts()

    # when another account claims it
    response = api.post(uk, "/v1/accounts", {"name": "Other", "external_id": "crm-abc"})

    # then it is refused naming the field
    body = assert_problem(
        response, status=409, code="account_external_id_taken", field="external_id"
    )
    assert body["detail"] == "external id 'crm-abc' is already used in this tenant"
    assert api.counts() == counts


def test_an_unknown_parent_is_404(api: Api, uk: Caller) -> None:
    # given a tenant
    counts = api.counts()

    # when an account is created below a parent that does not exist, or moved there
    created = api.post(uk, "/v1/accounts", {"name": "Dept", "parent_id": "acc_nope"})

    # then it is not found, naming parent_id
    assert_problem(created, status=404, code="not_found", field="parent_id")
    assert api.counts() == counts


def test_an_unknown_parent_in_a_move_is_404(api: Api, uk: Caller, abc: dict[str, str]) -> None:
    # given ABC
    counts = api.counts()

    # when it is moved below a parent that does not exist
    response = api.post(uk, f"/v1/accounts/{abc['ABC']}/move", {"parent_id": "acc_nope"})

    # then it is not found, naming parent_id
    assert_problem(response, status=404, code="not_found", field="parent_id")
    assert api.counts() == counts


def test_a_bad_number_in_a_bulk_add_writes_none(api: Api, uk: Caller) -> None:
    # given two good numbers and one that is not a phone number
    counts = api.counts()

    # when they are added together
    response = api.post(
        uk, "/v1/numbers", {"numbers": ["020 7123 4567", "not a number", "+442071234568"]}
    )

    # then the bad one is named and none is written
    body = assert_problem(response, status=422, code="invalid_input", field="numbers[1]")
    assert body["detail"].startswith("'not a number' is not a phone number")
    assert api.counts() == counts


def test_an_overlapping_assignment_is_409(api: Api, uk: Caller, abc: dict[str, str]) -> None:
    # given a number ABC holds from January
    [number] = api.created(uk, "/v1/numbers", {"numbers": ["+442071234567"]})
    path = f"/v1/numbers/{number['id']}/assign"
    api.created(uk, path, {"account_id": abc["ABC"], "valid_from": "2026-01-01T00:00:00Z"})
    counts = api.counts()

    # when Support asks for it in March
    response = api.post(
        uk, path, {"account_id": abc["Support"], "valid_from": "2026-03-01T00:00:00Z"}
    )

    # then it is refused, saying who holds it
    body = assert_problem(
        response, status=409, code="number_assignment_overlap", field="valid_from"
    )
    assert abc["ABC"] in body["detail"]
    assert api.counts() == counts


def test_a_reused_idempotency_key_is_422(api: Api, uk: Caller) -> None:
    # given an account created with a key
    api.post(uk, "/v1/accounts", {"name": "A"}, idempotency_key="once")
    counts = api.counts()

    # when the key comes back with another body
    response = api.post(uk, "/v1/accounts", {"name": "B"}, idempotency_key="once")

    # then it is refused
    assert_problem(response, status=422, code="idempotency_key_reused", field="Idempotency-Key")
    assert api.counts() == counts


@pytest.mark.parametrize("path", ["/v1/accounts", "/v1/numbers", "/v1/tenants", "/v1/api-keys"])
@pytest.mark.parametrize("cursor", ["!!!", "YWJj", "not-a-cursor", "acc_1"])
def test_an_invalid_cursor_is_422(api: Api, uk: Caller, path: str, cursor: str) -> None:
    # given a cursor this API did not issue
    # when a list is asked for with it
    response = api.get(uk, path, cursor=cursor)

    # then it is refused
    assert_problem(response, status=422, code="invalid_cursor", field="cursor")


@pytest.mark.parametrize("limit", [0, 501, "many"])
def test_a_limit_out_of_range_is_422(api: Api, uk: Caller, limit: object) -> None:
    # given a limit outside 1-500
    # when a list is asked for
    response = api.get(uk, "/v1/accounts", limit=limit)

    # then it is refused naming limit
    assert_problem(response, status=422, code="invalid_input", field="limit")


def test_a_datetime_without_offset_is_422(api: Api, uk: Caller, abc: dict[str, str]) -> None:
    # given a number
    [number] = api.created(uk, "/v1/numbers", {"numbers": ["+442071234567"]})
    counts = api.counts()

    # when instants without a time zone are sent
    assign = api.post(
        uk,
        f"/v1/numbers/{number['id']}/assign",
        {"account_id": abc["ABC"], "valid_from": "2026-01-01T00:00:00"},
    )
    lookup = api.post(
        uk, "/v1/numbers/lookup", {"queries": [{"number": "+442071234567", "at": "2026-01-01"}]}
    )

    # then each is refused, naming the field and how to fix it
    body = assert_problem(assign, status=422, code="invalid_input", field="valid_from")
    assert "give a time zone offset" in body["detail"]
    assert_problem(lookup, status=422, code="invalid_input", field="queries[0].at")
    assert api.counts() == counts


def test_an_unknown_route_is_a_404_problem(api: Api, uk: Caller) -> None:
    # given a path no route serves
    # when it is called
    response = api.get(uk, "/v1/no-such-things")
    no_version = api.get(uk, "/accounts")

    # then it is a 404 problem
    body = assert_problem(response, status=404, code="not_found", field=None)
    assert body["instance"] == "/v1/no-such-things"
    assert_problem(no_version, status=404, code="not_found", field=None)


def test_a_method_not_allowed_is_a_405_problem(api: Api, uk: Caller) -> None:
    # given a route that does not take DELETE
    # when it is called with DELETE
    response = api.delete(uk, "/v1/tenants")

    # then it is a 405 problem
    assert_problem(response, status=405, code="method_not_allowed", field=None)


def test_an_unknown_account_is_404(api: Api, uk: Caller) -> None:
    # given an id that does not exist
    # when it is read, changed, moved, deleted or its tree asked for
    responses = [
        api.get(uk, "/v1/accounts/acc_nope"),
        api.patch(uk, "/v1/accounts/acc_nope", {"name": "X"}),
        api.post(uk, "/v1/accounts/acc_nope/move", {"parent_id": None}),
        api.delete(uk, "/v1/accounts/acc_nope"),
        api.get(uk, "/v1/accounts/acc_nope/tree"),
    ]

    # then each is a 404 naming account_id
    for response in responses:
        assert_problem(response, status=404, code="not_found", field="account_id")
