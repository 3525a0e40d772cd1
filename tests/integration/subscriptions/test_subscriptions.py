"""Subscription use cases on both databases: orders, changes recorded, price layers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billstream.billing.service import upcoming_charges
from billstream.core.clock import FakeClock
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.subscriptions.models import Subscription, SubscriptionChange
from billstream.subscriptions.schemas import ChangeCreate
from billstream.subscriptions.service import change_subscription
from tests.factories import (
    apply_catalog_yaml,
    make_account,
    make_subscription,
    make_tenant,
    scope_of,
)

CATALOG = """\
effective_from: 2025-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
  - {code: router, name: Router, kind: hardware}
plans:
  - code: numbers
    name: Numbers
    currencies: [USD]
    charges:
      - code: numbers
        product: numbers
        prices: [{currency: USD, model: {type: per_unit, unit_price: 5.00}}]
      - code: router
        product: router
        prices: [{currency: USD, model: {type: flat, amount: 79.99}}]
"""
VIP_PRICE = """\
effective_from: 2025-01-01
customer_prices:
  - {account: VIP, product: numbers, currency: USD, model: {type: per_unit, unit_price: 4.00},
     adjustments: [{kind: discount, percent: 10}]}
"""


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def tenant(session: Session, clock: FakeClock):  # type: ignore[no-untyped-def]
    tenant = make_tenant(session, clock, timezone="Europe/London")
    apply_catalog_yaml(session, clock, tenant, CATALOG)
    return tenant


def test_an_order_records_its_creation_and_the_hardware_once(
    session: Session, clock: FakeClock, tenant
) -> None:  # type: ignore[no-untyped-def]
    # given an account and an order of 3 numbers from Jan 1
    account = make_account(session, clock, tenant)
    view = make_subscription(session, clock, account, "numbers", quantity=Decimal(3),
                             start_date=date(2026, 1, 1))  # fmt: skip

    # when previewed to Jan 31
    result = upcoming_charges(
        session, scope=scope_of(session, tenant), account_id=account.id, until=date(2026, 1, 31)
    )

    # then the router is charged once, the numbers for the month
    assert [(x.kind, x.charge, x.quantity, x.unit_price, x.amount) for x in result.lines] == [
        ("one_time", "router", Decimal(1), Decimal("79.99"), Decimal("79.99")),
        ("recurring", "numbers", Decimal(3), Decimal("5.00"), Decimal("15.00")),
    ]
    # and the order is one change, by the CLI, at the clock's instant
    [created] = session.scalars(select(SubscriptionChange))
    assert (created.kind, created.effective, created.actor, created.recorded_at) == (
        "create",
        date(2026, 1, 1),
        "cli",
        clock.now(),
    )
    assert view.subscription.status == "active"


def test_a_customer_price_with_a_discount_is_the_customer_layer(
    session: Session, clock: FakeClock, tenant
) -> None:  # type: ignore[no-untyped-def]
    # given the VIP account's special price of 4.00 less 10%
    vip = make_account(session, clock, tenant, external_id="VIP")
    apply_catalog_yaml(session, clock, tenant, VIP_PRICE)
    make_subscription(session, clock, vip, "numbers", quantity=Decimal(10),
                      start_date=date(2026, 1, 1))  # fmt: skip
    # when previewed
    result = upcoming_charges(
        session, scope=scope_of(session, tenant), account_id=vip.id, until=date(2026, 1, 31)
    )
    # then its numbers are 3.60 each, from the customer layer
    [numbers] = [x for x in result.lines if x.charge == "numbers"]
    assert (numbers.unit_price, numbers.layer, numbers.amount) == (
        Decimal("3.600"),
        "customer",
        Decimal("36.00"),
    )


def test_period_end_follows_the_anniversary_cycle(
    session: Session, clock: FakeClock, tenant
) -> None:  # type: ignore[no-untyped-def]
    # given an anniversary account billed on the 20th, subscribed from Jan 10
    account = make_account(session, clock, tenant, billing_cycle="anniversary", billing_day=20)
    view = make_subscription(session, clock, account, "numbers", start_date=date(2026, 1, 10))
    clock.set(datetime(2026, 2, 3, 12, tzinfo=UTC))

    # when cancelled at the end of the period
    row = change_subscription(
        session,
        clock=clock,
        scope=scope_of(session, tenant),
        subscription_id=view.subscription.id,
        data=ChangeCreate(kind="cancel", effective="period_end", reason="moving"),
        actor="cli",
    )

    # then it ends on Feb 20, the first day of the next period
    assert (row.effective, row.timing, row.reason) == (date(2026, 2, 20), "period_end", "moving")
    assert row.before == {"status": "active", "plan_id": view.plan_id, "quantity": "1"}
    assert row.after["status"] == "cancelled"
    assert session.get(Subscription, view.subscription.id).cancelled_at == date(2026, 2, 20)  # type: ignore[union-attr]


def test_a_refused_change_writes_nothing(session: Session, clock: FakeClock, tenant) -> None:  # type: ignore[no-untyped-def]
    account = make_account(session, clock, tenant)
    view = make_subscription(session, clock, account, "numbers", start_date=date(2026, 1, 1))
    before = (count(session, SubscriptionChange), view.subscription.updated_at)
    for data, error in [
        (ChangeCreate(kind="resume", reason="no"), ConflictError),
        (
            ChangeCreate(
                kind="quantity",
                quantity=Decimal(2),
                effective="date",
                date=date(2025, 12, 31),
                reason="no",
            ),
            InvalidInputError,
        ),
    ]:
        with pytest.raises(error):
            change_subscription(
                session,
                clock=clock,
                scope=scope_of(session, tenant),
                subscription_id=view.subscription.id,
                data=data,
                actor="cli",
            )
    assert (count(session, SubscriptionChange), view.subscription.updated_at) == before
