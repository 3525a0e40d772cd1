"""Every invoice route takes the invoice's id or its number, whatever characters the brand's
numbering format puts in it (`NWUK/2026/00001`), sent as is or percent-encoded.

The routes are found in the OpenAPI document, so a route added later under
`/v1/invoices/{invoice_id}` fails here until it is called by number too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem
from tests.factories import make_account
from tests.invoice_rows import Line, insert_invoice

from billstream.tenants.models import Tenant

UK_NUMBER = "NWUK/2026/00001"
ODD_NUMBER = "Q 1#?%/7"  # a space, #, ? and % as well as a slash


def issued(api: Api, caller: Caller, number: str) -> str:
    tenant = api.session.get(Tenant, caller.tenant_id)
    assert tenant is not None
    account = make_account(api.session, api.clock, tenant, name="Acme Ltd", email="ap@a.example")
    invoice = insert_invoice(
        api.session, api.clock, account, [Line("Business Fibre", Decimal("80.00"))], number=number
    )
    api.session.commit()
    return invoice.id


# (method, suffix, body, expected status, what the answer says about the invoice)
CALLS: list[tuple[str, str, Any, int]] = [
    ("GET", "", None, 200),
    ("GET", "/pdf", None, 200),
    ("GET", "/html", None, 200),
    ("GET", "/deliveries", None, 200),
    ("GET", "/lines/1/records", None, 422),  # found: a recurring line has no records
    ("POST", "/send", {}, 409),  # found: e-mail is not configured
    ("POST", "/payments", {"amount": "10.00"}, 200),
    (
        "POST",
        "/credit-notes",
        {"reason": "goodwill", "lines": [{"position": 1, "amount": "5"}]},
        201,
    ),
    ("POST", "/void", {"reason": "wrong customer"}, 409),  # found: paid in part, cannot void
]


def test_every_invoice_route_is_called_by_number(api: Api) -> None:
    paths = {p for p in api.client.get("/openapi.json").json()["paths"] if "{invoice_id}" in p}
    covered = {f"/v1/invoices/{{invoice_id}}{suffix.replace('/1/', '/{position}/')}"
               for _, suffix, _, _ in CALLS}  # fmt: skip
    assert paths == covered


@pytest.mark.parametrize("encode", [False, True], ids=["as-is", "percent-encoded"])
def test_a_number_with_slashes_reaches_every_invoice_route(api: Api, encode: bool) -> None:
    # given an issued invoice numbered by the UK brand's format
    uk = api.tenant(currency="GBP", locale="en_GB")
    invoice_id = issued(api, uk, UK_NUMBER)
    ref = quote(UK_NUMBER, safe="") if encode else UK_NUMBER

    # when every invoice route is called with its number, then each acts on that invoice
    for method, suffix, body, status in CALLS:
        response = api.call(uk, method, f"/v1/invoices/{ref}{suffix}", json=body)
        assert response.status_code == status, (method, suffix, response.text)
    assert api.ok(uk, f"/v1/invoices/{ref}")["id"] == invoice_id
    assert api.ok(uk, f"/v1/invoices/{ref}/deliveries")["data"] == []
    pdf = api.get(uk, f"/v1/invoices/{ref}/pdf")
    assert pdf.headers["content-disposition"].startswith('attachment; filename="NWUK')
    assert pdf.content.startswith(b"%PDF")
    paid = api.ok(uk, f"/v1/invoices/{ref}")
    assert (paid["status"], paid["amount_paid"]) == ("partially_paid", "10.00")


def test_a_number_of_any_characters_is_reached_percent_encoded(api: Api) -> None:
    a = api.tenant()
    invoice_id = issued(api, a, ODD_NUMBER)
    ref = quote(ODD_NUMBER, safe="")
    assert api.ok(a, f"/v1/invoices/{ref}")["id"] == invoice_id
    assert api.get(a, f"/v1/invoices/{ref}/pdf").status_code == 200
    voided = api.post(a, f"/v1/invoices/{ref}/void", {"reason": "test"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "void"


def test_an_unknown_number_and_a_suffix_of_no_route_are_not_found(api: Api) -> None:
    a = api.tenant()
    issued(api, a, UK_NUMBER)
    for path in (f"{UK_NUMBER}X", f"{UK_NUMBER}/nope", f"{UK_NUMBER}/pdf/x"):
        response = api.get(a, f"/v1/invoices/{path}")
        assert_problem(response, status=404, code="not_found", field="invoice_id")
    assert api.call(a, "DELETE", f"/v1/invoices/{UK_NUMBER}").status_code == 405


def test_a_number_two_brands_share_is_refused_naming_the_id(api: Api) -> None:
    # given a parent whose two brands each issued their invoice 1 with the same number
    parent = api.tenant()
    brands = [api.tenant(parent=parent.tenant_id) for _ in range(2)]
    ids = [issued(api, brand, "INV-2026-000001") for brand in brands]

    # when the parent asks by number: refused, as the number does not say which
    response = api.get(parent, "/v1/invoices/INV-2026-000001/pdf")
    body = assert_problem(
        response, status=409, code="billing_invoice_number_ambiguous", field="invoice_id"
    )
    assert "use the invoice's id" in body["detail"]

    # then each brand reaches its own by number, and the parent by id
    for brand, invoice_id in zip(brands, ids, strict=True):
        assert api.ok(brand, "/v1/invoices/INV-2026-000001")["id"] == invoice_id
        assert api.ok(parent, f"/v1/invoices/{invoice_id}")["id"] == invoice_id
