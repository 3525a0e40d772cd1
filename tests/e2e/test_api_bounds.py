"""Numbers and dates out of billstream's bounds (docs/api.md, "Bounds") are a 422 naming the
field, and nothing is stored: none of them may break a later request or bill run (issue 17,
section 2: each of these was a 500, or was stored and broke the account afterwards)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem
from tests.e2e.test_api_subscriptions import NUMBERS_CATALOG, apply_catalog, order, spec_account
from tests.e2e.test_api_usage import _hold
from tests.unit.mediation.samples import CALLER, NY

HUGE = "1e999999"


@pytest.fixture
def shop(api: Api) -> tuple[Caller, str]:
    """A tenant with the numbers plan ($5 a number a month) and an account."""
    api.clock.set(datetime(2026, 1, 10, tzinfo=UTC))
    caller = api.tenant(currency="USD")
    apply_catalog(api, caller, NUMBERS_CATALOG)
    account = api.created(caller, "/v1/accounts", {"name": "Acme"})
    return caller, account["id"]


def _refused(api: Api, response: Any, field: str, before: dict[str, int]) -> dict[str, Any]:
    body = assert_problem(response, status=422, code="invalid_input", field=field)
    assert api.counts() == before
    return body


# --- quantities and amounts -------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [HUGE, "1" + "0" * 29, 10**29, "10000000.5", "-1"])
def test_a_subscription_quantity_out_of_bounds_is_refused(
    api: Api, shop: tuple[Caller, str], quantity: Any
) -> None:
    # given a tenant with a plan and an account
    caller, account_id = shop
    before = api.counts()

    # when an order asks for an absurd quantity
    response = api.post(
        caller,
        "/v1/subscriptions",
        {"account_id": account_id, "plan": "numbers", "quantity": quantity},
    )

    # then it is a 422 on quantity, nothing is stored, and the account still previews
    _refused(api, response, "quantity", before)
    assert api.ok(caller, f"/v1/accounts/{account_id}/upcoming-charges", until="2026-03-31")


def test_the_largest_quantity_is_accepted_and_previews(api: Api, shop: tuple[Caller, str]) -> None:
    # given an order at the largest quantity (10^7), $5 each
    caller, account_id = shop
    order(api, caller, account_id=account_id, plan="numbers", quantity="10000000",
          start_date="2026-02-01")  # fmt: skip

    # when its charges are previewed
    body = api.ok(caller, f"/v1/accounts/{account_id}/upcoming-charges", until="2026-02-28")

    # then they are the exact figure
    assert [t["amount"] for t in body["totals"]] == ["50000000.00"]


def test_a_quantity_change_out_of_bounds_is_refused(api: Api, shop: tuple[Caller, str]) -> None:
    caller, account_id = shop
    sub = order(api, caller, account_id=account_id, plan="numbers", quantity=5)
    before = api.counts()
    response = api.post(
        caller,
        f"/v1/subscriptions/{sub['id']}/changes",
        {"kind": "quantity", "quantity": HUGE, "reason": "fuzz"},
    )
    _refused(api, response, "quantity", before)


@pytest.mark.parametrize(
    ("price", "field"),
    [
        ("{type: per_unit, unit_price: 1e999999}", "unit_price"),
        ("{type: per_unit, unit_price: 10000000001}", "unit_price"),
        ("{type: graduated, tiers: [{up_to: 1e999999, unit_price: 1}, {unit_price: 1}]}", "up_to"),
        ("{type: graduated, tiers: [{up_to: 10, unit_price: 1e999999}, {unit_price: 1}]}",
         "unit_price"),
        ("{type: package, block_size: 1e99, block_price: 1}", "block_size"),
    ],
)  # fmt: skip
def test_a_catalogue_amount_out_of_bounds_is_refused(
    api: Api, shop: tuple[Caller, str], price: str, field: str
) -> None:
    # given a catalogue whose price holds an absurd number
    caller, _ = shop
    text = NUMBERS_CATALOG.replace("{type: per_unit, unit_price: 5.00}", price)
    before = api.counts()

    # when it is applied
    response = api.call(
        caller, "POST", "/v1/catalog/apply", content=text.encode(),
        headers={"Content-Type": "application/yaml"},
    )  # fmt: skip

    # then it is a 422 naming the price's field, and nothing changes
    assert response.status_code == 422, response.text
    assert field in response.json()["field"], response.json()
    assert api.counts() == before


def test_a_credit_note_amount_out_of_bounds_is_refused(api: Api) -> None:
    # given an issued invoice
    api.clock.set(datetime(2025, 12, 1, tzinfo=UTC))
    caller, _, _ = spec_account(api)
    api.clock.set(datetime(2026, 1, 2, tzinfo=UTC))
    api.created(caller, "/v1/bill-runs", {"date": "2025-12-31"})
    path = f"/v1/invoices/{api.ok(caller, '/v1/invoices/INV-2025-000001')['id']}"
    before = api.counts()

    # when a credit note or a payment of 1e999999 is asked
    credit = api.post(
        caller,
        f"{path}/credit-notes",
        {"reason": "fuzz", "lines": [{"position": 1, "amount": HUGE}]},
    )
    payment = api.post(caller, f"{path}/payments", {"amount": HUGE})

    # then each is a 422 naming the amount, and nothing is written
    _refused(api, credit, "lines[0].amount", before)
    _refused(api, payment, "amount", before)


# --- invoice number formats -------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt", ["{seq.__class__}", "{seq:>99999999}", "{seq:099999999d}", "{prefix}{month}-{seq}",
            "{seq!r}", "{seq[0]}", "{0}{seq}", "{prefix}-{year}", "{seq", "INV}{seq}"]
)  # fmt: skip
def test_an_invoice_format_outside_the_grammar_is_refused(api: Api, fmt: str) -> None:
    # given a tenant
    caller = api.tenant(currency="USD")
    before = api.counts()

    # when a brand below it, or the tenant itself, is given the format
    created = api.post(
        caller,
        "/v1/tenants",
        {"parent_id": caller.tenant_id, "slug": "brand", "name": "Brand", "invoice_format": fmt},
    )
    updated = api.patch(caller, f"/v1/tenants/{caller.tenant_id}", {"invoice_format": fmt})

    # then both are 422 naming invoice_format, and nothing is stored
    for response in (created, updated):
        body = _refused(api, response, "invoice_format", before)
        assert "invoice format" in body["detail"]


def test_an_invoice_format_in_the_grammar_numbers_the_invoices(api: Api) -> None:
    # given a tenant numbering {prefix}/{year}/{seq:05d}, with SPEC's orders
    api.clock.set(datetime(2025, 12, 1, tzinfo=UTC))
    caller, _, _ = spec_account(api, invoice_format="{prefix}/{year}/{seq:05d}")
    api.clock.set(datetime(2026, 1, 2, tzinfo=UTC))

    # when December is billed
    api.created(caller, "/v1/bill-runs", {"date": "2025-12-31"})

    # then the invoice is numbered in that format
    assert [i["number"] for i in api.ok(caller, "/v1/invoices")["data"]] == ["INV-/2025/00001"]


# --- dates and instants -----------------------------------------------------------------------

EDGES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "1899-12-31T23:59:59Z"]


@pytest.mark.parametrize("instant", EDGES)
def test_an_instant_out_of_bounds_is_refused_by_numbers(api: Api, instant: str) -> None:
    # given a number and an account
    caller = api.tenant(currency="USD")
    account = api.created(caller, "/v1/accounts", {"name": "Holder"})
    [number] = api.created(caller, "/v1/numbers", {"numbers": ["+12125550100"]})
    before = api.counts()

    # when it is assigned, released or looked up at an instant out of bounds
    assign = api.post(
        caller,
        f"/v1/numbers/{number['id']}/assign",
        {"account_id": account["id"], "valid_from": instant},
    )
    release = api.post(caller, f"/v1/numbers/{number['id']}/release", {"at": instant})
    lookup = api.post(
        caller, "/v1/numbers/lookup", {"queries": [{"number": "+12125550100", "at": instant}]}
    )

    # then each is a 422 naming the field
    _refused(api, assign, "valid_from", before)
    _refused(api, release, "at", before)
    _refused(api, lookup, "queries[0].at", before)


@pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01", "9900-01-01"])
def test_upcoming_charges_until_out_of_bounds_is_refused(
    api: Api, shop: tuple[Caller, str], until: str
) -> None:
    caller, account_id = shop
    order(api, caller, account_id=account_id, plan="numbers", quantity=1)
    response = api.get(caller, f"/v1/accounts/{account_id}/upcoming-charges", until=until)
    body = assert_problem(response, status=422, code="invalid_input", field="until")
    assert "1900-01-01 to 9899-12-31" in body["detail"]


def test_a_preview_reaches_at_most_100_years_past_the_first_start(
    api: Api, shop: tuple[Caller, str]
) -> None:
    # given a subscription from 2026-02-01 (the dates accepted reach 9899-12-31)
    caller, account_id = shop
    order(api, caller, account_id=account_id, plan="numbers", quantity=1, start_date="2026-02-01")
    path = f"/v1/accounts/{account_id}/upcoming-charges"

    # when its charges are previewed to 9899-12-31, and to the last day of the horizon
    far = api.get(caller, path, until="9899-12-31")
    last = api.ok(caller, path, until="2126-02-01")

    # then the first is refused at once, naming until; the second is 1,201 months of $5
    body = assert_problem(far, status=422, code="invalid_input", field="until")
    assert "at most 100 years past the account's first subscription start" in body["detail"]
    assert [t["amount"] for t in last["totals"]] == ["6005.00"]


@pytest.mark.parametrize("path", ["/v1/bill-runs", "/v1/bill-runs/dry-run"])
def test_a_bill_run_dated_out_of_bounds_is_refused(api: Api, path: str) -> None:
    caller = api.tenant(currency="USD")
    before = api.counts()
    _refused(api, api.post(caller, path, {"date": "0001-01-01"}), "date", before)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/subscriptions", {"plan": "numbers", "start_date": "0001-01-01"}, "start_date"),
        ("/v1/subscriptions", {"plan": "numbers", "end_date": "9999-12-31"}, "end_date"),
    ],
)
def test_a_subscription_date_out_of_bounds_is_refused(
    api: Api, shop: tuple[Caller, str], path: str, body: dict[str, Any], field: str
) -> None:
    caller, account_id = shop
    before = api.counts()
    _refused(api, api.post(caller, path, {"account_id": account_id, **body}), field, before)


# --- rating rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"first_s": 2**64, "next_s": 1}, "first_s"),
        ({"first_s": 60, "next_s": 10**20}, "next_s"),
        ({"first_s": 60, "next_s": 1, "free_below_s": 2**63}, "free_below_s"),
        ({"first_s": 60, "next_s": 1, "effective_from": "0001-01-01"}, "effective_from"),
    ],
)
def test_a_rounding_rule_out_of_bounds_is_refused(
    api: Api, rule: dict[str, Any], field: str
) -> None:
    caller = api.tenant(currency="USD")
    before = api.counts()
    _refused(api, api.post(caller, "/v1/rating/rules", rule), field, before)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/rating/margin-rules", {"percent": "10", "min_margin": HUGE}, "min_margin"),
        ("/v1/rating/tiers", {"usage_type": "voice", "tiers": [{"from_quantity": 0, "rate": HUGE}]},
         "tiers[0].rate"),
        ("/v1/rating/tiers", {"usage_type": "voice", "tiers": [{"from_quantity": 10**20,
                                                                 "rate": "0.01"}]},
         "tiers[0].from_quantity"),
        ("/v1/rating/runs", {"period_start": "0001-01-01", "period_end": "2026-01-01"},
         "period_start"),
    ],
)  # fmt: skip
def test_a_rating_input_out_of_bounds_is_refused(
    api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    caller = api.tenant(currency="USD")
    before = api.counts()
    _refused(api, api.post(caller, path, body), field, before)


# --- usage ------------------------------------------------------------------------------------


def test_an_event_with_a_23_digit_duration_is_one_reject(api: Api) -> None:
    # given a tenant holding a New York number
    caller = api.tenant(currency="USD", timezone="America/New_York")
    _hold(api, caller, "+1" + NY)
    at = "2026-01-10T10:00:00Z"

    # when a batch holds a call of 23 digits of seconds between two good ones
    response = api.post(
        caller,
        "/v1/usage/events",
        {"events": [
            {"record_key": "e1", "started_at": at, "duration_s": 60, "calling": CALLER,
             "called": NY},
            {"record_key": "e2", "started_at": at, "duration_s": "1" * 23, "called": NY},
            {"record_key": "e3", "started_at": at, "duration_s": 1_000_001, "called": NY},
            {"record_key": "e4", "started_at": at, "duration_s": 1_000_000, "called": NY},
        ]},
    )  # fmt: skip

    # then those two are rejects with their reason, and the rest is accepted
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["records_in"], body["accepted"], body["rejected"]) == (4, 2, 2)
    assert [(r["index"], r["reason"]) for r in body["rejects"]] == [
        (1, "bad_duration"),
        (2, "bad_duration"),
    ]
    assert (
        "longer than the longest billstream accepts (1000000 seconds)"
        in (body["rejects"][0]["detail"])
    )
    assert api.count("usage_records") == 2
