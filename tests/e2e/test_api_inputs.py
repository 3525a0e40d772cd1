"""Inputs are refused exactly where the OpenAPI document says they are (docs/api.md, "Text").

A text's lengths and pattern hold for the value as sent, which is then stored trimmed; a
partial change's field that cannot be null is documented as not nullable; a multipart field
that must be given says so with `minLength: 1`. Each was a schemathesis finding: the document
promised one thing and the API did another.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem


@pytest.fixture
def uk(api: Api) -> Caller:
    return api.tenant(currency="GBP", locale="en_GB")


def _schema(api: Api, name: str) -> dict[str, Any]:
    document = api.client.get("/openapi.json").json()
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def test_a_name_one_character_too_long_is_refused_though_it_starts_with_a_tab(
    api: Api, uk: Caller
) -> None:
    # given the document's bound on a key's name
    assert _schema(api, "ApiKeyCreate")["properties"]["name"]["maxLength"] == 200
    before = api.counts()

    # when a key is created with 201 characters, the first a tab
    response = api.post(uk, "/v1/api-keys", {"name": "\t" + "k" * 200})

    # then it is refused on name, and no key is stored
    body = assert_problem(response, status=422, code="invalid_input", field="name")
    assert body["errors"][0]["type"] == "string_too_long"
    assert api.counts() == before


def test_a_text_within_its_bounds_is_stored_trimmed(api: Api, uk: Caller) -> None:
    account = api.created(
        uk, "/v1/accounts", {"name": "\t" + "A" * 199, "contact_name": "  Ann Lee "}
    )
    assert (account["name"], account["contact_name"]) == ("A" * 199, "Ann Lee")


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v1/api-keys", {"name": " \t "}), ("/v1/accounts", {"name": "   "})],
)
def test_a_required_text_of_only_whitespace_is_refused(
    api: Api, uk: Caller, path: str, body: dict[str, Any]
) -> None:
    before = api.counts()
    response = api.post(uk, path, body)
    problem = assert_problem(response, status=422, code="invalid_input", field="name")
    assert "must not be blank" in problem["detail"]
    assert api.counts() == before


@pytest.mark.parametrize(
    "field", ["name", "type", "payment_terms_days", "billing_cycle", "invoice_delivery", "auto_pay"]
)
def test_an_account_field_that_cannot_be_null_is_documented_so(
    api: Api, uk: Caller, field: str
) -> None:
    # given the document's shape of an account change
    documented = _schema(api, "AccountUpdate")["properties"][field]

    # then the field is optional but not nullable
    assert "anyOf" not in documented
    assert "null" not in str(documented.get("type"))
    assert "default" not in documented
    assert field not in _schema(api, "AccountUpdate").get("required", [])

    # and a null is refused on that field, the account unchanged
    account = api.created(uk, "/v1/accounts", {"name": "Acme"})
    response = api.patch(uk, f"/v1/accounts/{account['id']}", {field: None})
    assert_problem(response, status=422, code="invalid_input", field=field)
    assert api.ok(uk, f"/v1/accounts/{account['id']}") == account


def test_a_tenant_name_cannot_be_null_and_is_documented_so(api: Api, uk: Caller) -> None:
    documented = _schema(api, "TenantUpdate")["properties"]["name"]
    assert documented["type"] == "string"
    assert "anyOf" not in documented
    response = api.patch(uk, f"/v1/tenants/{uk.tenant_id}", {"name": None})
    assert_problem(response, status=422, code="invalid_input", field="name")


def _form_schema(api: Api, path: str) -> dict[str, Any]:
    document = api.client.get("/openapi.json").json()
    body = document["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
    ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = document["components"]["schemas"][ref]
    return schema


@pytest.mark.parametrize(
    ("path", "field", "form"),
    [
        ("/v1/rating/cards", "name", {"name": "", "kind": "retail"}),
        ("/v1/usage/files", "format", {"format": ""}),
    ],
)
def test_an_empty_required_form_field_is_refused_as_documented(
    api: Api, uk: Caller, path: str, field: str, form: dict[str, str]
) -> None:
    # given the document's shape of the upload
    assert _form_schema(api, path)["properties"][field]["minLength"] == 1
    before = api.counts()

    # when the field is sent empty
    response = api.client.post(
        path,
        headers=uk.headers,
        files={"file": ("upload.csv", b"prefix,rate\n44,0.1\n", "text/csv")},
        data=form,
    )

    # then it is refused on that field, and nothing is stored
    assert_problem(response, status=422, code="invalid_input", field=field)
    assert api.counts() == before


# --- dates and instants are ISO 8601 text ---------------------------------------------------


@pytest.mark.parametrize("param", ["started_from", "started_before"])
@pytest.mark.parametrize(
    "value", ["0.0", "1767225600", "2026-01-01T00:00:00", "9999-12-31T23:00:00-05:00"]
)
def test_an_instant_in_a_query_is_iso_8601_with_its_offset(
    api: Api, uk: Caller, param: str, value: str
) -> None:
    # a number would be read as a Unix timestamp; an instant without offset is naive (a 500
    # on PostgreSQL); the last is past billstream's dates
    response = api.get(uk, "/v1/rated-usage", **{param: value})
    assert_problem(response, status=422, code="invalid_input", field=param)


def test_an_instant_in_a_body_is_not_a_number(api: Api, uk: Caller) -> None:
    account = api.created(uk, "/v1/accounts", {"name": "Acme"})
    [number] = api.created(uk, "/v1/numbers", {"numbers": ["+442071234567"]})
    before = api.counts()
    response = api.post(
        uk,
        f"/v1/numbers/{number['id']}/assign",
        {"account_id": account["id"], "valid_from": 0},
    )
    assert_problem(response, status=422, code="invalid_input", field="valid_from")
    assert api.counts() == before


@pytest.mark.parametrize("value", [0, "0", "20260131"])
def test_a_date_is_not_a_number(api: Api, uk: Caller, value: object) -> None:
    before = api.counts()
    response = api.post(uk, "/v1/tax-rates", {"jurisdiction": "GB", "name": "VAT",
                                               "rate": "20", "effective_from": value})  # fmt: skip
    assert_problem(response, status=422, code="invalid_input", field="effective_from")
    assert api.counts() == before


@pytest.mark.parametrize(
    ("param", "value"), [("from", "0"), ("from", "0001-01-01"), ("to", "9999-12-31")]
)
def test_a_margin_report_s_days_are_iso_dates_within_bounds(
    api: Api, uk: Caller, param: str, value: str
) -> None:
    response = api.get(uk, "/v1/rating/margin", **{param: value})
    assert_problem(response, status=422, code="invalid_input", field=param)


# --- booleans and whole numbers are JSON's own ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/api-keys", {"name": "robot", "include_descendants": 0}, "include_descendants"),
        ("/v1/api-keys", {"name": "robot", "include_descendants": "true"}, "include_descendants"),
        ("/v1/accounts", {"name": "Acme", "auto_pay": 1}, "auto_pay"),
        ("/v1/accounts", {"name": "Acme", "payment_terms_days": "30"}, "payment_terms_days"),
        ("/v1/accounts", {"name": "Acme", "payment_terms_days": True}, "payment_terms_days"),
    ],
)
def test_a_boolean_or_whole_number_of_another_json_type_is_refused(
    api: Api, uk: Caller, path: str, body: dict[str, Any], field: str
) -> None:
    before = api.counts()
    response = api.post(uk, path, body)
    assert_problem(response, status=422, code="invalid_input", field=field)
    assert api.counts() == before


def test_a_whole_number_written_with_a_zero_fraction_is_a_whole_number(
    api: Api, uk: Caller
) -> None:
    # JSON Schema counts 30.0 as an integer
    account = api.created(uk, "/v1/accounts", {"name": "Acme", "payment_terms_days": 30.0})
    assert account["payment_terms_days"] == 30


# --- multipart texts fit their columns --------------------------------------------------------


def test_a_cost_card_s_carrier_longer_than_its_column_is_refused(api: Api, uk: Caller) -> None:
    # given the document's bound on a card's carrier
    assert _form_schema(api, "/v1/rating/cards")["properties"]["carrier"]["anyOf"][0] == {
        "type": "string",
        "maxLength": 100,
    }
    before = api.counts()

    # when a cost card names a carrier of 101 characters (a 500 on PostgreSQL)
    response = api.client.post(
        "/v1/rating/cards",
        headers=uk.headers,
        files={"file": ("cost.csv", b"prefix,description,rate\n44,UK,0.01\n", "text/csv")},
        data={"name": "carrier-x", "kind": "cost", "carrier": "c" * 101},
    )

    # then it is refused on carrier, and nothing is stored
    assert_problem(response, status=422, code="invalid_input", field="carrier")
    assert api.counts() == before


# --- no text holds a NUL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/api-keys", {"name": "\x00"}, "name"),
        ("/v1/accounts", {"name": "Acme", "billing_address": {"country": "GB",
                                                             "city": "Lon\x00don"}},
         "billing_address.city"),
        ("/v1/numbers", {"numbers": ["+442071234567", "\x00"]}, "numbers[1]"),
        ("/v1/usage/events", {"events": [{"called": "\x00"}]}, "events[0].called"),
    ],
)  # fmt: skip
def test_a_nul_in_a_json_body_is_refused_naming_the_field(
    api: Api, uk: Caller, path: str, body: dict[str, Any], field: str
) -> None:
    # PostgreSQL cannot store a NUL: this was a 500 there
    before = api.counts()
    response = api.post(uk, path, body)
    assert_problem(response, status=422, code="invalid_input", field=field)
    assert api.counts() == before


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/numbers", {"tenant_id": "\x00"}, "tenant_id"),
        ("/v1/accounts/acc_%00", {}, "account_id"),
    ],
)
def test_a_nul_in_a_path_or_query_is_refused_naming_the_parameter(
    api: Api, uk: Caller, path: str, params: dict[str, str], field: str
) -> None:
    response = api.get(uk, path, **params)
    assert_problem(response, status=422, code="invalid_input", field=field)


def test_a_nul_in_a_form_field_is_refused_naming_it(api: Api, uk: Caller) -> None:
    before = api.counts()
    response = api.client.post(
        "/v1/rating/cards",
        headers=uk.headers,
        files={"file": ("cost.csv", b"prefix,description,rate\n44,UK,0.01\n", "text/csv")},
        data={"name": "card\x00", "kind": "retail"},
    )
    assert_problem(response, status=422, code="invalid_input", field="name")
    assert api.counts() == before


def test_a_rounding_rule_s_step_is_documented_from_one_second(api: Api, uk: Caller) -> None:
    # given the document's bound on next_s
    documented = _schema(api, "RoundingRuleCreate")["properties"]["next_s"]
    assert (documented["minimum"], documented["maximum"]) == (1, 1_000_000)

    # then a step of 0 is refused by the shape, on next_s
    body = {"usage_type": "voice", "first_s": 60, "next_s": 0}
    response = api.post(uk, "/v1/rating/rules", body)
    problem = assert_problem(response, status=422, code="invalid_input", field="next_s")
    assert problem["errors"][0]["type"] == "greater_than_equal"


def test_a_form_upload_with_an_idempotency_key_is_read_once_and_replayed(
    api: Api, uk: Caller
) -> None:
    # the NUL check reads the form before the Idempotency-Key's fingerprint reads the body
    boundary = "b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n{value}\r\n'
        for name, extra, value in [
            ("file", '; filename="cost.csv"', "prefix,description,rate\n44,UK,0.01\n"),
            ("name", "", "retail-uk"),
            ("kind", "", "retail"),
        ]
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    headers = {
        **uk.headers,
        "Idempotency-Key": "card-1",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }

    first = api.client.post("/v1/rating/cards", headers=headers, content=body)
    again = api.client.post("/v1/rating/cards", headers=headers, content=body)

    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("field", ["duration_s", "quantity"])
def test_a_usage_event_s_count_is_not_a_boolean(api: Api, uk: Caller, field: str) -> None:
    # a number or its text is read; true was read as 1
    before = api.counts()
    response = api.post(uk, "/v1/usage/events", {"events": [{"called": "+442071234567",
                                                               field: True}]})  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input"
    assert field in str(response.json()["errors"])
    assert api.counts() == before
