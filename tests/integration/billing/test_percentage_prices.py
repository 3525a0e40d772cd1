"""Percentage prices end to end: applied, previewed and billed on their base charges or on
the period's rated usage; and every percentage a bill run could not bill refused when the
catalogue is applied."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from billstream.billing.service import upcoming_charges
from billstream.core.clock import FakeClock
from billstream.core.errors import InvalidInputError
from billstream.rating.service import RatingRequest, rate_period
from billstream.tenants.models import Tenant
from billstream.tenants.service import operator_scope
from tests.factories import (
    apply_catalog_yaml,
    context_of,
    make_account,
    make_subscription,
    make_tenant,
)
from tests.integration.billing.helpers import at, invoices_of, lines_of, run, spec_orders
from tests.integration.rating.test_rating_service import RETAIL, add_calls, import_card

CATALOG = """\
effective_from: 2025-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
  - {code: care, name: Care desk, kind: recurring}
  - {code: router, name: Desk phone, kind: hardware}
  - {code: voice, name: Minutes, kind: usage}
plans:
  - code: numbers
    name: Numbers, monthly
    currencies: [USD]
    charges:
      - code: numbers
        product: numbers
        prices: [{currency: USD, model: {type: per_unit, unit_price: 5.00}}]
      - code: care
        product: care
        prices: [{currency: USD, model: %s}]
      - code: voice
        product: voice
        timing: arrears
        prices: [{currency: USD, model: {type: per_unit, unit_price: 0.02}}]
      - code: router
        product: router
        prices: [{currency: USD, model: {type: flat, amount: 89}}]
"""
CARE = "{type: percentage, percent: 10, of: numbers, minimum: 5.00}"


def test_a_percentage_of_the_plans_charges_is_previewed(session: Session, clock: FakeClock) -> None:
    # given care at 10% of the numbers charge, and SPEC's orders
    clock.set(at(date(2025, 12, 20)))
    tenant = make_tenant(session, clock)
    apply_catalog_yaml(session, clock, tenant, CATALOG % CARE)
    account = make_account(session, clock, tenant)
    spec_orders(session, clock, tenant, account)
    session.flush()
    # when previewed to Feb 28
    scope = operator_scope(session, tenant.id)
    shown = upcoming_charges(session, scope=scope, account_id=account.id, until=date(2026, 2, 28))
    # then care is 10% of each month's numbers: 27.58 of 275.81, 29.64 of 296.43
    care = [(x.period.start, x.amount) for x in shown.lines if x.charge == "care"]
    assert care == [(date(2026, 1, 1), Decimal("27.58")), (date(2026, 2, 1), Decimal("29.64"))]
    assert [t.amount.amount for t in shown.period_totals] == [
        Decimal("392.39"),  # 275.81 + 27.58 + the router's 89.00
        Decimal("326.07"),
    ]


def test_a_bill_run_bills_the_percentage_once(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given care at 10% of the numbers, 50 numbers from Jan 1
    clock.set(at(date(2025, 12, 20)))
    tenant = make_tenant(session, clock)
    apply_catalog_yaml(session, clock, tenant, CATALOG % CARE)
    account = make_account(session, clock, tenant)
    make_subscription(
        session, clock, account, "numbers", quantity=Decimal(50), start_date=date(2026, 1, 1)
    )
    session.commit()
    # when December's close is billed, twice
    clock.set(at(date(2026, 1, 1)))
    run(session_factory, clock, tenant, date(2025, 12, 31))
    run(session_factory, clock, tenant, date(2025, 12, 31), key="again")
    # then one invoice carries January's numbers, care on them, and the router
    [invoice] = invoices_of(session, account.id)
    lines = [(x.charge, x.amount) for x in lines_of(session, invoice.id)]
    assert sorted(lines) == [
        ("care", Decimal("25.00")),
        ("numbers", Decimal("250.00")),
        ("router", Decimal("89.00")),
    ]


# a surcharge on each month's rated usage, billed in arrears (its model for %%s)
SURCHARGE = (CATALOG % CARE).replace("%", "%%").replace(
    "  - {code: voice, name: Minutes, kind: usage}\n",
    "  - {code: voice, name: Minutes, kind: usage}\n"
    "  - {code: surcharge, name: Regulatory surcharge, kind: recurring}\n",
) + (
    "      - code: surcharge\n"
    "        product: surcharge\n"
    "        timing: arrears\n"
    "        prices: [{currency: USD, model: %s}]\n"
)
OF_USAGE = "{type: percentage, percent: 5, of: usage}"
# 10% of each call + 0.01, at least 0.0225 and at most 0.034 a call
OF_EVENTS = (
    "{type: percentage, percent: 10, of: events, fee_per_event: 0.01,"
    " minimum_per_event: 0.0225, maximum_per_event: 0.034}"
)


def _rate_january(session: Session, clock: FakeClock, tenant: Tenant, **options: Any) -> None:
    rate_period(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        request=RatingRequest(tenant.id, start=date(2026, 1, 1), end=date(2026, 2, 1), **options),
    )
    session.commit()


def _surcharges(lines: Sequence[Any]) -> list[tuple[date, Decimal]]:
    """The surcharge lines (of the preview or an invoice) by service start, amount."""
    return sorted(
        (getattr(x, "service_start", None) or x.start, x.amount)
        for x in lines
        if x.charge == "surcharge"
    )


@pytest.mark.parametrize(
    ("model", "january", "rerated"),
    [
        # 5% of 0.50 = 0.025; then of 0.86 = 0.043
        (OF_USAGE, "0.03", "0.04"),
        # 0.12 -> 0.022 -> 0.0225, 0.13 -> 0.023, 0.25 -> 0.035 -> 0.034: 0.0795;
        # then 0.0225 + 0.034 + 0.034 (0.49 -> 0.059) = 0.0905
        (OF_EVENTS, "0.08", "0.09"),
    ],
)
def test_a_percentage_of_usage_is_billed_once_as_previewed_and_follows_a_rerating(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    model: str,
    january: str,
    rerated: str,
) -> None:
    # given a surcharge on usage, 50 numbers from Jan 1, and January's calls rated at
    # 0.12 + 0.13 + 0.25 = 0.50
    clock.set(at(date(2025, 12, 20)))
    tenant = make_tenant(session, clock)
    apply_catalog_yaml(session, clock, tenant, SURCHARGE % model)
    account = make_account(session, clock, tenant)
    # and another account of the same subscription, with no calls
    quiet = make_account(session, clock, tenant, name="Quiet")
    for buyer in (account, quiet):
        make_subscription(
            session, clock, buyer, "numbers", quantity=Decimal(50), start_date=date(2026, 1, 1)
        )
    day = datetime(2026, 1, 10, 12, tzinfo=UTC)
    add_calls(
        session,
        tenant,
        account,
        ("a", day, 61, "+442071234567"),  # UK 0.12
        ("b", day + timedelta(hours=1), 30, "+447700900123"),  # UK mobile 0.13
        ("c", day + timedelta(hours=2), 90, "+447700900124"),  # UK mobile 0.01 + 0.24
    )
    import_card(session, clock, tenant, RETAIL)
    _rate_january(session, clock, tenant)
    scope = operator_scope(session, tenant.id)

    # when previewed to January's end
    shown = upcoming_charges(session, scope=scope, account_id=account.id, until=date(2026, 1, 31))
    # then the surcharge is taken on January's usage, rounded once
    assert _surcharges(shown.lines) == [(date(2026, 1, 1), Decimal(january))]

    # when January closes, twice
    clock.set(at(date(2026, 2, 1)))
    run(session_factory, clock, tenant, date(2026, 1, 31))
    again = run(session_factory, clock, tenant, date(2026, 1, 31), key="again")
    # then one invoice carries the surcharge as previewed, beside the usage it is taken on
    [invoice] = invoices_of(session, account.id)
    lines = lines_of(session, invoice.id)
    assert _surcharges(lines) == [(date(2026, 1, 1), Decimal(january))]
    assert sum(x.amount for x in lines if x.kind == "usage") == Decimal("0.50")
    assert again.invoiced == 0
    # and the account without calls has no surcharge (its lines are its own)
    [quiet_invoice] = invoices_of(session, quiet.id)
    assert _surcharges(lines_of(session, quiet_invoice.id)) == []
    # and nothing of it is upcoming any more
    shown = upcoming_charges(session, scope=scope, account_id=account.id, until=date(2026, 1, 31))
    assert _surcharges(shown.lines) == []

    # when the UK mobile rate doubles and January is re-rated: 0.12 + 0.25 + 0.49 = 0.86
    import_card(
        session, clock, tenant, [RETAIL[0], {**RETAIL[1], "rate": "0.24"}],
        effective_from=date(2026, 1, 5),
    )  # fmt: skip
    _rate_january(session, clock, tenant, rerate=True)
    # then the preview takes the surcharge back and charges it on the re-rated usage
    shown = upcoming_charges(session, scope=scope, account_id=account.id, until=date(2026, 2, 28))
    expected = [(date(2026, 1, 1), -Decimal(january)), (date(2026, 1, 1), Decimal(rerated))]
    assert _surcharges(shown.lines) == expected
    # and February's close bills that, once
    clock.set(at(date(2026, 3, 1)))
    run(session_factory, clock, tenant, date(2026, 2, 28))
    again = run(session_factory, clock, tenant, date(2026, 2, 28), key="february again")
    assert _surcharges(lines_of(session, invoices_of(session, account.id)[-1].id)) == expected
    assert again.invoiced == 0


@pytest.mark.parametrize(
    ("model", "field", "words"),
    [
        ("{type: percentage, percent: 3, of: usage}", "plans[0].charges[1].prices[0].model.of",
         "billed in arrears"),
        ("{type: percentage, percent: 3, of: [usage, numbers]}",
         "plans[0].charges[1].prices[0].model.of", "a base on its own"),
        ("{type: percentage, percent: 3, of: care}", "plans[0].charges[1].prices[0].model.of",
         "itself"),
        ("{type: percentage, percent: 3, of: voice}", "plans[0].charges[1].prices[0].model.of",
         "recurring charge billed advance monthly"),
        ("{type: percentage, percent: 3, of: events, fee_per_event: 0.30}",
         "plans[0].charges[1].prices[0].model.of", "percentage of events is billed in arrears"),
        ("{type: percentage, percent: 3, of: [events, numbers]}",
         "plans[0].charges[1].prices[0].model.of", "events are a base on their own"),
    ],
)  # fmt: skip
def test_a_percentage_no_bill_run_could_bill_is_refused_naming_its_path(
    session: Session, clock: FakeClock, model: str, field: str, words: str
) -> None:
    # given a tenant
    tenant = make_tenant(session, clock)
    # when a catalogue prices care with a percentage of no billable base
    with pytest.raises(InvalidInputError) as refused:
        apply_catalog_yaml(session, clock, tenant, CATALOG % model)
    # then it is refused naming the model's field and why
    assert refused.value.field == field
    assert refused.value.code == "catalog_unbillable_price"
    assert words in str(refused.value)


def test_a_percentage_on_a_one_time_item_or_a_price_list_is_refused(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock)
    router = CATALOG % CARE + (
        "price_list:\n"
        "  - {product: numbers, currency: USD, model: {type: percentage, percent: 1, of: care}}\n"
    )
    with pytest.raises(InvalidInputError) as refused:
        apply_catalog_yaml(session, clock, tenant, router)
    assert refused.value.field == "price_list[0].model.type"
    one_time = (CATALOG % CARE).replace(
        "{type: flat, amount: 89}", "{type: percentage, percent: 1, of: numbers}"
    )
    with pytest.raises(InvalidInputError) as refused:
        apply_catalog_yaml(session, clock, tenant, one_time)
    assert refused.value.field == "plans[0].charges[3].prices[0].model.type"
