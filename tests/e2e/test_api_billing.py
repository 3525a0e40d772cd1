"""Bill runs and invoices over HTTP: SPEC's table through month-end runs, dry runs that write
nothing, clear refusals, invoices that cannot be edited, credit notes, payments, tax rates."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.e2e.conftest import Api, Caller, assert_problem
from tests.e2e.test_api_subscriptions import spec_account


def month_end(api: Api, caller: Caller, day: str, **fields: object) -> dict[str, object]:
    return api.created(caller, "/v1/bill-runs", {"date": day, **fields})  # type: ignore[no-any-return]


def test_spec_table_through_bill_runs_over_http(api: Api) -> None:
    # given SPEC C4's orders (in advance), billed at December's and January's closes
    api.clock.set(datetime(2025, 12, 1, tzinfo=UTC))
    caller, account_id, _ = spec_account(api)
    api.clock.set(datetime(2026, 2, 1, 9, tzinfo=UTC))

    # when a dry run is asked first, then the runs
    before = api.counts()
    dry = api.post(caller, "/v1/bill-runs/dry-run", {"date": "2025-12-31"})
    assert dry.status_code == 200, dry.text
    assert [i["total"] for i in dry.json()["invoices"]] == ["275.81"]
    assert api.counts() == before
    december = month_end(api, caller, "2025-12-31")
    january = month_end(api, caller, "2026-01-31")

    # then each run invoiced the account once: January 275.81 ahead, then February 296.43
    assert (december["invoiced"], january["invoiced"]) == (1, 1)
    listed = api.ok(caller, "/v1/invoices", account_id=account_id)["data"]
    assert sorted((i["number"], i["total"]) for i in listed) == [
        ("INV-2025-000001", "275.81"),  # each year its own gapless series
        ("INV-2026-000001", "296.43"),
    ]
    first = api.ok(caller, "/v1/invoices/INV-2025-000001")
    assert [x["amount"] for x in first["lines"]] == ["250.00", "25.81"]
    assert first["lines"][1]["lineage"]["fraction"] == "16/31"

    # and the same run asked again is the same run
    assert month_end(api, caller, "2025-12-31")["id"] == december["id"]


def test_an_invoice_has_no_route_that_edits_it_and_a_credit_note_corrects_it(api: Api) -> None:
    api.clock.set(datetime(2025, 12, 1, tzinfo=UTC))
    caller, _account, _ = spec_account(api)
    api.clock.set(datetime(2026, 1, 2, tzinfo=UTC))
    month_end(api, caller, "2025-12-31")
    invoice = api.ok(caller, "/v1/invoices/INV-2025-000001")
    path = f"/v1/invoices/{invoice['id']}"

    for method in ("PUT", "PATCH", "DELETE"):
        response = api.call(caller, method, path, json={"total": "1.00"})
        assert response.status_code == 405, (method, response.text)

    note = api.created(
        caller,
        f"{path}/credit-notes",
        {"reason": "five numbers never worked", "lines": [{"position": 1, "amount": "25.00"}]},
    )
    assert (note["kind"], note["total"], note["corrects_id"]) == (
        "credit_note",
        "-25.00",
        invoice["id"],
    )
    too_much = api.post(
        caller,
        f"{path}/credit-notes",
        {"reason": "again", "lines": [{"position": 1, "amount": "225.01"}]},  # 225.00 left
    )
    assert_problem(
        too_much, status=422, code="billing_credit_exceeds_invoice", field="lines[0].amount"
    )
    assert api.ok(caller, path)["total"] == "275.81"

    paid = api.post(caller, f"{path}/payments", {"amount": "75.81"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "partially_paid"
    assert_problem(
        api.post(caller, f"{path}/void", {"reason": "no"}),
        status=409,
        code="billing_invalid_transition",
        field="invoice_id",
    )


def test_refusals_name_the_field(api: Api) -> None:
    api.clock.set(datetime(2026, 1, 15, tzinfo=UTC))
    caller = api.tenant()
    other = api.tenant()
    before = api.counts()
    assert_problem(
        api.post(caller, "/v1/bill-runs", {"date": "2026-01-31"}),
        status=422,
        code="billing_future_date",
        field="date",
    )
    assert_problem(
        api.post(caller, "/v1/bill-runs", {"date": "2026-01-10", "tenant_id": other.tenant_id}),
        status=404,
        code="not_found",
        field="tenant_id",
    )
    assert_problem(
        api.post(caller, "/v1/bill-runs", {"date": "2026-01-10", "accounts": ["acc_nope"]}),
        status=404,
        code="not_found",
        field="accounts",
    )
    assert_problem(
        api.post(caller, "/v1/tax-rates", {"jurisdiction": "Narnia", "name": "VAT", "rate": "20",
                                            "effective_from": "2026-01-01"}),
        status=422,
        code="invalid_input",
        field="jurisdiction",
    )  # fmt: skip
    assert api.counts() == before


def test_tax_rates_are_set_and_listed(api: Api) -> None:
    caller = api.tenant(currency="GBP")
    rate = api.created(
        caller,
        "/v1/tax-rates",
        {"jurisdiction": "gb", "name": "VAT", "rate": "20", "effective_from": "2026-01-01"},
    )
    assert (rate["jurisdiction"], rate["rate"]) == ("GB", "20")
    assert [r["name"] for r in api.ok(caller, "/v1/tax-rates")["data"]] == ["VAT"]
