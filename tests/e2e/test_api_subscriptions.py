"""Subscriptions over HTTP: a catalogue file, orders and changes give, through the preview
endpoint, exactly SPEC C4's figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem

NUMBERS_CATALOG = """\
effective_from: 2025-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
plans:
  - code: numbers
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

SPEC_LINES = [
    ("2026-01-01", "2026-02-01", "50", "31/31", "250.00"),
    ("2026-01-16", "2026-02-01", "10", "16/31", "25.81"),
    ("2026-02-01", "2026-02-25", "60", "24/28", "257.14"),
    ("2026-02-25", "2026-03-01", "55", "4/28", "39.29"),
]


def apply_catalog(api: Api, caller: Caller, text: str) -> Any:
    response = api.call(
        caller,
        "POST",
        "/v1/catalog/apply",
        content=text.encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def order(api: Api, caller: Caller, **fields: Any) -> Any:
    return api.created(caller, "/v1/subscriptions", fields)


def change(api: Api, caller: Caller, subscription_id: str, **fields: Any) -> Any:
    fields.setdefault("reason", "customer asked")
    return api.created(caller, f"/v1/subscriptions/{subscription_id}/changes", fields)


def spec_account(api: Api, **settings: Any) -> tuple[Caller, str, str]:
    """A tenant with the numbers plan, a calendar-billed account, and SPEC's three orders."""
    caller = api.tenant(**settings)
    apply_catalog(api, caller, NUMBERS_CATALOG)
    account = api.created(caller, "/v1/accounts", {"name": "Case Study Co"})
    sub = order(
        api, caller, account_id=account["id"], plan="numbers", quantity=50, start_date="2026-01-01"
    )
    change(
        api, caller, sub["id"], kind="quantity", quantity=60, effective="date", date="2026-01-16"
    )
    change(
        api, caller, sub["id"], kind="quantity", quantity=55, effective="date", date="2026-02-25"
    )
    return caller, account["id"], sub["id"]


def upcoming(api: Api, caller: Caller, account_id: str, until: str) -> Any:
    return api.ok(caller, f"/v1/accounts/{account_id}/upcoming-charges", until=until)


def line_tuples(body: Any) -> list[tuple[str, str, str, str, str]]:
    return [
        (x["start"], x["end"], x["quantity"], x["fraction"], x["amount"]) for x in body["lines"]
    ]


def test_the_spec_case_study_previews_exactly_spec_figures(api: Api) -> None:
    # given the numbers plan at $5 per number per month in advance, an account on calendar
    # billing, an order of 50 from Jan 1, 60 from Jan 16 and 55 from Feb 25
    caller, account_id, subscription_id = spec_account(api)
    before = api.counts()

    # when the upcoming charges to Feb 28 are previewed
    body = upcoming(api, caller, account_id, "2026-02-28")

    # then the lines are SPEC's table, each from the catalogue's plan layer
    assert line_tuples(body) == SPEC_LINES
    assert {x["unit_price"] for x in body["lines"]} == {"5.00"}
    assert {x["layer"] for x in body["lines"]} == {"plan"}
    assert {x["subscription_id"] for x in body["lines"]} == {subscription_id}
    assert [(t["period_start"], t["amount"]) for t in body["period_totals"]] == [
        ("2026-01-01", "275.81"),
        ("2026-02-01", "296.43"),
    ]
    assert body["totals"] == [{"currency": "USD", "amount": "572.24"}]
    # and the preview wrote nothing
    assert api.counts() == before


def test_a_tenant_on_four_places_gets_spec_four_place_figures(api: Api) -> None:
    # given the same orders in a tenant whose line precision is 4 places
    caller, account_id, _ = spec_account(api, line_precision=4)

    # when previewed
    body = upcoming(api, caller, account_id, "2026-02-28")

    # then each line is rounded once to 4 places
    assert [x["amount"] for x in body["lines"]] == ["250.0000", "25.8065", "257.1429", "39.2857"]
    assert [t["amount"] for t in body["period_totals"]] == ["275.8065", "296.4286"]


def test_a_tenant_on_the_fixed_30_day_month_divides_by_30(api: Api) -> None:
    # given the same orders in a tenant that prorates by a fixed 30-day month
    caller, account_id, _ = spec_account(api, proration_basis="thirty_day_month")

    # when previewed
    body = upcoming(api, caller, account_id, "2026-02-28")

    # then Jan 16-31 is 15 of 30 days, Feb 25 to the month end 6 of 30 (30E/360)
    assert line_tuples(body) == [
        ("2026-01-01", "2026-02-01", "50", "30/30", "250.00"),
        ("2026-01-16", "2026-02-01", "10", "15/30", "25.00"),
        ("2026-02-01", "2026-02-25", "60", "24/30", "240.00"),
        ("2026-02-25", "2026-03-01", "55", "6/30", "55.00"),
    ]
    assert [t["amount"] for t in body["period_totals"]] == ["275.00", "295.00"]


ADJUSTED_CATALOG = """\
effective_from: 2025-01-01
products:
  - {code: support, name: Support desk, kind: recurring}
plans:
  - code: discounted
    name: Support, two discounts
    currencies: [USD]
    charges:
      - code: support
        product: support
        prices:
          - currency: USD
            model: {type: flat, amount: 100.00}
            adjustments: [{kind: discount, percent: 10}, {kind: discount, percent: 5}]
  - code: with-fees
    name: Support, two fees
    currencies: [USD]
    charges:
      - code: support
        product: support
        prices:
          - currency: USD
            model: {type: flat, amount: 85.50}
            adjustments: [{kind: fee, percent: 3}, {kind: fee, percent: 2}]
"""


@pytest.mark.parametrize(("plan", "amount"), [("discounted", "85.50"), ("with-fees", "89.83")])
def test_sequential_discounts_and_fees_each_apply_to_what_the_last_left(
    api: Api, plan: str, amount: str
) -> None:
    # given $100 with 10% then 5% off, and $85.50 with a 3% then a 2% fee (SPEC C3)
    caller = api.tenant()
    apply_catalog(api, caller, ADJUSTED_CATALOG)
    account = api.created(caller, "/v1/accounts", {"name": "Desk Co"})
    order(api, caller, account_id=account["id"], plan=plan, quantity=1, start_date="2026-03-01")

    # when March is previewed
    body = upcoming(api, caller, account["id"], "2026-03-31")

    # then 100 x 0.90 x 0.95 = 85.50, and 85.50 x 1.03 x 1.02 = 89.8263 -> 89.83
    assert [x["amount"] for x in body["lines"]] == [amount]


# --- the plan terms and the lifecycle --------------------------------------------------------

TERMS_CATALOG = """\
effective_from: 2025-01-01
products:
  - {code: line, name: Business line, kind: recurring}
plans:
  - code: pro
    name: Pro
    currencies: [USD]
    setup_fee: {USD: 25.00}
    charges:
      - code: line
        product: line
        prices: [{currency: USD, model: {type: flat, amount: 31.00}}]
  - code: basic
    name: Basic
    currencies: [USD]
    charges:
      - code: line
        product: line
        prices: [{currency: USD, model: {type: flat, amount: 15.50}}]
  - code: trial
    name: Two weeks free
    currencies: [USD]
    trial_days: 14
    charges:
      - code: line
        product: line
        prices: [{currency: USD, model: {type: flat, amount: 31.00}}]
  - code: committed
    name: Two months committed
    currencies: [USD]
    commitment_months: 2
    early_termination_fee: {USD: 100.00}
    charges:
      - code: line
        product: line
        prices: [{currency: USD, model: {type: flat, amount: 31.00}}]
        commitment_prices: [{currency: USD, model: {type: flat, amount: 15.50}}]
  - code: flat28
    name: Twenty-eight
    currencies: [USD]
    charges:
      - code: line
        product: line
        prices: [{currency: USD, model: {type: flat, amount: 28.00}}]
  - code: retired
    name: Retired
    currencies: [USD]
    sellable_to: 2025-12-31
    charges:
      - code: line
        product: line
        prices: [{currency: USD, model: {type: flat, amount: 10.00}}]
"""

DEC_20 = datetime(2025, 12, 20, 12, 0, tzinfo=UTC)
JAN_15 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def shop(api: Api) -> tuple[Caller, str]:
    """A tenant with the terms catalogue and a calendar-billed account."""
    caller = api.tenant()
    apply_catalog(api, caller, TERMS_CATALOG)
    account = api.created(caller, "/v1/accounts", {"name": "Terms Co"})
    return caller, account["id"]


def lines_of(body: Any) -> list[tuple[str, str, str, str, str, str]]:
    return [
        (x["kind"], x["start"], x["end"], x["quantity"], x["fraction"], x["amount"])
        for x in body["lines"]
    ]


def totals_of(body: Any) -> list[tuple[str, str]]:
    return [(t["period_start"], t["amount"]) for t in body["period_totals"]]


def test_a_trial_ending_mid_period_charges_from_the_trial_end(
    api: Api, shop: tuple[Caller, str]
) -> None:
    # given a 14-day trial ordered from Jan 1
    caller, account_id = shop
    sub = order(api, caller, account_id=account_id, plan="trial", start_date="2026-01-01")

    # when previewed to the end of February
    body = upcoming(api, caller, account_id, "2026-02-28")

    # then January is charged from Jan 15, the first day after the trial, and it is active
    assert sub["status"] == "active"
    assert sub["trial_end"] == "2026-01-15"
    assert lines_of(body) == [
        ("recurring", "2026-01-15", "2026-02-01", "1", "17/31", "17.00"),
        ("recurring", "2026-02-01", "2026-03-01", "1", "28/28", "31.00"),
    ]


def test_a_subscription_in_its_trial_reads_as_trial(api: Api, shop: tuple[Caller, str]) -> None:
    # given a trial ordered from Jan 10 (today is Jan 15)
    caller, account_id = shop
    sub = order(api, caller, account_id=account_id, plan="trial", start_date="2026-01-10")
    # then it is in its trial, and nothing is charged for January before Jan 24
    assert sub["status"] == "trial"
    body = upcoming(api, caller, account_id, "2026-01-31")
    assert lines_of(body) == [("recurring", "2026-01-24", "2026-02-01", "1", "8/31", "8.00")]


def test_the_commitment_price_holds_until_the_commitment_ends_mid_period(
    api: Api, shop: tuple[Caller, str]
) -> None:
    # given two months committed at 15.50 (31.00 after), ordered from Jan 16
    caller, account_id = shop
    sub = order(api, caller, account_id=account_id, plan="committed", start_date="2026-01-16")

    # when previewed to the end of March
    body = upcoming(api, caller, account_id, "2026-03-31")

    # then the commitment price runs to Mar 15 and the list price from Mar 16
    assert sub["commitment_end"] == "2026-03-16"
    assert lines_of(body) == [
        ("recurring", "2026-01-16", "2026-02-01", "1", "16/31", "8.00"),
        ("recurring", "2026-02-01", "2026-03-01", "1", "28/28", "15.50"),
        ("recurring", "2026-03-01", "2026-03-16", "1", "15/31", "7.50"),
        ("recurring", "2026-03-16", "2026-04-01", "1", "16/31", "16.00"),
    ]
    assert totals_of(body)[-1] == ("2026-03-01", "23.50")


def test_cancelling_within_the_commitment_charges_the_early_termination_fee(
    api: Api, shop: tuple[Caller, str]
) -> None:
    # given two months committed from Jan 1, cancelled from Feb 1
    caller, account_id = shop
    sub = order(api, caller, account_id=account_id, plan="committed", start_date="2026-01-01")
    change(api, caller, sub["id"], kind="cancel", effective="period_end")

    # when previewed
    body = upcoming(api, caller, account_id, "2026-02-28")

    # then January is charged, then the early termination fee on Feb 1, and nothing more
    assert lines_of(body) == [
        ("recurring", "2026-01-01", "2026-02-01", "1", "31/31", "15.50"),
        ("early_termination_fee", "2026-02-01", "2026-02-02", "1", "1/1", "100.00"),
    ]
    got = api.ok(caller, f"/v1/subscriptions/{sub['id']}")
    assert (got["status"], got["cancelled_at"]) == ("active", "2026-02-01")


def test_the_setup_fee_is_charged_once_on_the_start_date(
    api: Api, shop: tuple[Caller, str]
) -> None:
    # given the pro plan with its 25.00 setup fee, from Jan 1
    caller, account_id = shop
    order(api, caller, account_id=account_id, plan="pro", start_date="2026-01-01")

    # when previewed over two months
    body = upcoming(api, caller, account_id, "2026-02-28")

    # then the fee is one line of the first period
    assert lines_of(body) == [
        ("setup_fee", "2026-01-01", "2026-01-02", "1", "1/1", "25.00"),
        ("recurring", "2026-01-01", "2026-02-01", "1", "31/31", "31.00"),
        ("recurring", "2026-02-01", "2026-03-01", "1", "28/28", "31.00"),
    ]
    assert totals_of(body) == [("2026-01-01", "56.00"), ("2026-02-01", "31.00")]


def test_a_downgrade_mid_period_charges_the_split(api: Api, shop: tuple[Caller, str]) -> None:
    # given pro from Jan 1, ordered on Dec 20, not billed yet
    caller, account_id = shop
    api.clock.set(DEC_20)
    sub = order(api, caller, account_id=account_id, plan="pro", start_date="2026-01-01")

    # when on Jan 15 it is downgraded to basic from today
    api.clock.set(JAN_15)
    recorded = change(api, caller, sub["id"], kind="plan", plan="basic", effective="now")
    body = upcoming(api, caller, account_id, "2026-01-31")

    # then the two parts are charged, as a bill run would (nothing was invoiced to credit)
    assert recorded["effective"] == "2026-01-15"
    assert lines_of(body) == [
        ("setup_fee", "2026-01-01", "2026-01-02", "1", "1/1", "25.00"),
        ("recurring", "2026-01-01", "2026-01-15", "1", "14/31", "14.00"),
        ("recurring", "2026-01-15", "2026-02-01", "1", "17/31", "8.50"),
    ]
    assert [x["layer"] for x in body["lines"][1:]] == ["plan"] * 2
    assert totals_of(body) == [("2026-01-01", "47.50")]


def test_after_an_invoice_a_downgrade_previews_as_the_next_invoice_carries_it(
    api: Api, shop: tuple[Caller, str]
) -> None:
    # given pro from Jan 1, its January invoiced in advance at December's close
    caller, account_id = shop
    api.clock.set(DEC_20)
    sub = order(api, caller, account_id=account_id, plan="pro", start_date="2026-01-01")
    api.clock.set(datetime(2026, 1, 1, 9, tzinfo=UTC))
    api.created(caller, "/v1/bill-runs", {"date": "2025-12-31"})

    # when on Jan 15 it is downgraded to basic from today
    api.clock.set(JAN_15)
    change(api, caller, sub["id"], kind="plan", plan="basic", effective="now")
    body = upcoming(api, caller, account_id, "2026-01-31")

    # then the preview is what is left to invoice: the month's credit and its two parts
    assert lines_of(body) == [
        ("credit", "2026-01-01", "2026-02-01", "-1", "31/31", "-31.00"),
        ("recurring", "2026-01-01", "2026-01-15", "1", "14/31", "14.00"),
        ("recurring", "2026-01-15", "2026-02-01", "1", "17/31", "8.50"),
    ]
    assert totals_of(body) == [("2026-01-01", "-8.50")]
    # and a dry run at January's close bills the same January lines
    api.clock.set(datetime(2026, 2, 1, 9, tzinfo=UTC))
    dry = api.post(caller, "/v1/bill-runs/dry-run", {"date": "2026-01-31"}).json()
    january = sorted(
        (x["kind"], x["service_start"], x["service_end"], x["amount"])
        for x in dry["invoices"][0]["lines"]
        if x["service_start"] < "2026-02-01"
    )
    assert january == sorted((x[0], x[1], x[2], x[5]) for x in lines_of(body))


def test_a_cancellation_mid_period_charges_up_to_it(api: Api, shop: tuple[Caller, str]) -> None:
    # given basic from Jan 1, in advance, not billed yet
    caller, account_id = shop
    api.clock.set(DEC_20)
    sub = order(api, caller, account_id=account_id, plan="basic", start_date="2026-01-01")

    # when on Jan 15 it is cancelled from Jan 21
    api.clock.set(JAN_15)
    change(api, caller, sub["id"], kind="cancel", effective="date", date="2026-01-21")
    body = upcoming(api, caller, account_id, "2026-03-31")

    # then January nets to Jan 1-20 and nothing is charged after
    assert lines_of(body) == [
        ("recurring", "2026-01-01", "2026-01-21", "1", "20/31", "10.00"),
    ]
    assert body["totals"] == [{"currency": "USD", "amount": "10.00"}]
    # and a later change is refused
    response = api.post(
        caller,
        f"/v1/subscriptions/{sub['id']}/changes",
        {
            "kind": "quantity",
            "quantity": 2,
            "effective": "date",
            "date": "2026-02-01",
            "reason": "too late",
        },
    )
    assert_problem(response, status=409, code="subscription_invalid_transition", field="kind")


def test_no_recurring_charge_while_suspended(api: Api, shop: tuple[Caller, str]) -> None:
    # given pro from Jan 1, suspended from Jan 11 and resumed from Jan 21
    caller, account_id = shop
    api.clock.set(DEC_20)
    sub = order(api, caller, account_id=account_id, plan="pro", start_date="2026-01-01")
    change(api, caller, sub["id"], kind="suspend", effective="date", date="2026-01-11")
    change(api, caller, sub["id"], kind="resume", effective="date", date="2026-01-21")

    # when previewed
    body = upcoming(api, caller, account_id, "2026-02-28")

    # then January is charged for Jan 1-10 and Jan 21-31 only
    assert lines_of(body)[1:] == [
        ("recurring", "2026-01-01", "2026-01-11", "1", "10/31", "10.00"),
        ("recurring", "2026-01-21", "2026-02-01", "1", "11/31", "11.00"),
        ("recurring", "2026-02-01", "2026-03-01", "1", "28/28", "31.00"),
    ]
    # and its changes are recorded with who, why and when
    changes = api.ok(caller, f"/v1/subscriptions/{sub['id']}/changes")
    assert [(c["kind"], c["effective"], c["timing"]) for c in changes] == [
        ("create", "2026-01-01", "date"),
        ("suspend", "2026-01-11", "date"),
        ("resume", "2026-01-21", "date"),
    ]
    assert {c["actor"] for c in changes} == {caller.key_id}
    assert changes[1]["reason"] == "customer asked"
    assert changes[1]["recorded_at"] == "2025-12-20T12:00:00Z"
    assert (changes[1]["before"]["status"], changes[1]["after"]["status"]) == (
        "active",
        "suspended",
    )


def test_resuming_an_active_subscription_is_refused_and_writes_nothing(
    api: Api, shop: tuple[Caller, str]
) -> None:
    # given an active subscription
    caller, account_id = shop
    sub = order(api, caller, account_id=account_id, plan="basic", start_date="2026-01-01")
    before = api.counts()
    # when it is resumed
    response = api.post(
        caller, f"/v1/subscriptions/{sub['id']}/changes", {"kind": "resume", "reason": "oops"}
    )
    # then the change is refused, naming the kind and why, and nothing is written
    body = assert_problem(
        response, status=409, code="subscription_invalid_transition", field="kind"
    )
    assert "cannot resume a subscription that is active on 2026-01-15" in body["detail"]
    assert api.counts() == before


def test_anniversary_billing_day_31_clamps_to_the_end_of_february(api: Api) -> None:
    # given an account billed on day 31 and a 28.00 plan ordered from Feb 10
    caller = api.tenant()
    apply_catalog(api, caller, TERMS_CATALOG)
    account = api.created(
        caller,
        "/v1/accounts",
        {"name": "Day 31", "billing_cycle": "anniversary", "billing_day": 31},
    )
    sub = order(api, caller, account_id=account["id"], plan="flat28", start_date="2026-02-10")

    # when previewed to Mar 30
    body = upcoming(api, caller, account["id"], "2026-03-30")

    # then the periods run Jan 31 - Feb 27 and Feb 28 - Mar 30
    assert sub["billing_anchor"] == "2026-01-31"
    assert [(x["period_start"], x["period_end"]) for x in body["lines"]] == [
        ("2026-01-31", "2026-02-28"),
        ("2026-02-28", "2026-03-31"),
    ]
    assert lines_of(body) == [
        ("recurring", "2026-02-10", "2026-02-28", "1", "18/28", "18.00"),
        ("recurring", "2026-02-28", "2026-03-31", "1", "31/31", "28.00"),
    ]


def test_now_at_23_30_local_on_the_last_day_of_the_month_is_that_day(api: Api) -> None:
    # given a New York tenant; it is 23:30 on Jan 31 there, already Feb 1 in UTC
    caller = api.tenant(timezone="America/New_York")
    apply_catalog(api, caller, NUMBERS_CATALOG)
    account = api.created(caller, "/v1/accounts", {"name": "Late Night"})
    sub = order(
        api, caller, account_id=account["id"], plan="numbers", quantity=10, start_date="2026-01-01"
    )
    api.clock.set(datetime(2026, 2, 1, 4, 30, tzinfo=UTC))

    # when the quantity changes "now"
    recorded = change(api, caller, sub["id"], kind="quantity", quantity=12, effective="now")

    # then it takes effect on Jan 31, local date
    assert recorded["effective"] == "2026-01-31"
    body = upcoming(api, caller, account["id"], "2026-01-31")
    assert [(x["start"], x["quantity"], x["amount"]) for x in body["lines"]] == [
        ("2026-01-01", "10", "50.00"),
        ("2026-01-31", "2", "0.32"),
    ]


# --- bad input: a clear error naming the field, nothing written -------------------------------


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"plan": "retired"}, 422, "catalog_not_sellable", "plan"),
        ({"plan": "nope"}, 404, "catalog_unknown_plan", "plan"),
        ({"currency": "EUR"}, 422, "subscription_currency_not_billed", "currency"),
        ({"currency": "XYZ"}, 422, "invalid_input", "currency"),
        ({"quantity": -1}, 422, "invalid_input", "quantity"),
        ({"account_id": "acc_00000000000000000000000000000000"}, 404, "not_found", "account_id"),
        ({"end_date": "2025-12-31"}, 422, "invalid_input", "end_date"),
    ],
)
def test_a_bad_order_is_refused_naming_the_field(
    api: Api,
    shop: tuple[Caller, str],
    fields: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    # given a valid order, spoiled in one field
    caller, account_id = shop
    body = {"account_id": account_id, "plan": "basic", "start_date": "2026-01-01", **fields}
    before = api.counts()
    # when it is placed
    response = api.post(caller, "/v1/subscriptions", body)
    # then it is refused, naming the field, and nothing is written
    assert_problem(response, status=status, code=code, field=field)
    assert api.counts() == before


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        (
            {"kind": "quantity", "quantity": 3, "effective": "date", "date": "2025-12-31"},
            422,
            "subscription_change_before_start",
            "date",
        ),
        ({"kind": "quantity", "quantity": -2}, 422, "invalid_input", "quantity"),
        ({"kind": "quantity"}, 422, "subscription_change_missing_value", "quantity"),
        ({"kind": "plan"}, 422, "subscription_change_missing_value", "plan"),
        ({"kind": "plan", "plan": "retired"}, 422, "catalog_not_sellable", "plan"),
        ({"kind": "quantity", "quantity": 3, "effective": "date"}, 422, "invalid_input", "date"),
        ({"kind": "create"}, 422, "invalid_input", "kind"),
    ],
)
def test_a_bad_change_is_refused_naming_the_field(
    api: Api,
    shop: tuple[Caller, str],
    fields: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    # given a subscription from Jan 1
    caller, account_id = shop
    sub = order(api, caller, account_id=account_id, plan="basic", start_date="2026-01-01")
    before = api.counts()
    # when a bad change is asked
    response = api.post(
        caller, f"/v1/subscriptions/{sub['id']}/changes", {"reason": "test", **fields}
    )
    # then it is refused, naming the field, and nothing is written
    assert_problem(response, status=status, code=code, field=field)
    assert api.counts() == before


def test_an_external_id_is_unique_per_tenant(api: Api, shop: tuple[Caller, str]) -> None:
    # given an order with external id "crm-1"
    caller, account_id = shop
    order(api, caller, account_id=account_id, plan="basic", external_id="crm-1")
    # when another order in the tenant uses it, it is refused; another tenant may use it
    response = api.post(
        caller,
        "/v1/subscriptions",
        {"account_id": account_id, "plan": "basic", "external_id": "crm-1"},
    )
    assert_problem(response, status=409, code="subscription_external_id_taken", field="external_id")
    other = api.tenant()
    apply_catalog(api, other, TERMS_CATALOG)
    theirs = api.created(other, "/v1/accounts", {"name": "Other"})
    assert order(api, other, account_id=theirs["id"], plan="basic", external_id="crm-1")
    # and the list finds it by external id, with today's state
    listed = api.ok(caller, "/v1/subscriptions", external_id="crm-1")
    assert [(s["status"], s["quantity"], s["start_date"]) for s in listed["data"]] == [
        ("active", "1", "2026-01-15")
    ]


def test_an_order_starting_later_is_pending(api: Api, shop: tuple[Caller, str]) -> None:
    caller, account_id = shop
    sub = order(api, caller, account_id=account_id, plan="basic", start_date="2026-03-01")
    assert sub["status"] == "pending"
    # and "now" is before its start
    response = api.post(
        caller,
        f"/v1/subscriptions/{sub['id']}/changes",
        {"kind": "cancel", "reason": "changed mind"},
    )
    assert_problem(response, status=422, code="subscription_change_before_start", field="effective")


def test_a_fixed_term_expires_on_its_end_date(api: Api, shop: tuple[Caller, str]) -> None:
    # given basic from Jan 1 for a fixed term ending Feb 15
    caller, account_id = shop
    sub = order(
        api, caller, account_id=account_id, plan="basic", start_date="2026-01-01",
        end_date="2026-02-15",
    )  # fmt: skip

    # when previewed to the end of March, and read on Feb 20
    body = upcoming(api, caller, account_id, "2026-03-31")
    api.clock.set(datetime(2026, 2, 20, 12, tzinfo=UTC))
    later = api.ok(caller, f"/v1/subscriptions/{sub['id']}")

    # then February is charged to Feb 14, nothing after, and it reads as expired
    assert lines_of(body) == [
        ("recurring", "2026-01-01", "2026-02-01", "1", "31/31", "15.50"),
        ("recurring", "2026-02-01", "2026-02-15", "1", "14/28", "7.75"),
    ]
    assert later["status"] == "expired"
    changes = api.ok(caller, f"/v1/subscriptions/{sub['id']}/changes")
    assert [(c["kind"], c["effective"]) for c in changes] == [
        ("create", "2026-01-01"),
        ("expire", "2026-02-15"),
    ]
