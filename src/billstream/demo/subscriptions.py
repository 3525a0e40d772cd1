"""The demo's catalogue and orders: SPEC C4's case study, previewed line by line.

The parent company sells per-number plans in each brand's currency. Org ABC orders 50
numbers from Jan 1, goes to 60 from Jan 16 and to 55 from Feb 25; its upcoming charges to the
end of February are SPEC's table: 250.00 and 25.81 in January, 257.14 and 39.29 in February.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

from rich.table import Table
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account, AccountType, NumberAssignment
from billstream.billing.models import InvoiceLine
from billstream.catalog.service import apply_catalog, load_catalog_yaml
from billstream.core.clock import Clock
from billstream.core.decimals import fixed_point
from billstream.core.money import tidy
from billstream.demo.generate import ORG_ABC
from billstream.subscriptions.charges import LineKind
from billstream.subscriptions.schemas import ChangeCreate, SubscriptionCreate
from billstream.subscriptions.service import (
    CLI_ACTOR,
    change_subscription,
    create_subscription,
)
from billstream.tenants.models import Tenant
from billstream.tenants.service import operator_context, operator_scope

CATALOG = """\
effective_from: 2025-01-01
products:
  - {code: number, name: Business number, kind: recurring}
  - {code: router, name: Desk router, kind: hardware}
plans:
  - code: numbers
    name: Business numbers, monthly
    currencies: [USD, GBP, SGD]
    charges:
      - code: number
        product: number
        timing: advance
        cadence: monthly
        prices:
          - {currency: USD, model: {type: per_unit, unit_price: 5.00}}
          - {currency: GBP, model: {type: per_unit, unit_price: 4.00}}
          - {currency: SGD, model: {type: per_unit, unit_price: 6.50}}
  - code: voice-starter
    name: Voice Starter, per number, 300 minutes included
    currencies: [USD, GBP, SGD]
    included: {voice_minutes: 300}
    charges:
      - code: number
        product: number
        timing: advance
        cadence: monthly
        prices:
          - {currency: USD, model: {type: per_unit, unit_price: 8.00}}
          - {currency: GBP, model: {type: per_unit, unit_price: 6.50}}
          - {currency: SGD, model: {type: per_unit, unit_price: 10.00}}
  - code: voice-business
    name: Voice Business, per number, 2,000 minutes and 500 texts included
    currencies: [USD, GBP, SGD]
    included: {voice_minutes: 2000, sms: 500}
    charges:
      - code: number
        product: number
        timing: advance
        cadence: monthly
        prices:
          - {currency: USD, model: {type: per_unit, unit_price: 15.00}}
          - {currency: GBP, model: {type: per_unit, unit_price: 12.00}}
          - {currency: SGD, model: {type: per_unit, unit_price: 19.00}}
"""
# The generated accounts' plans, drawn by weight
PLANS = (("numbers", 3), ("voice-starter", 5), ("voice-business", 2))

# (account external id, quantity from Jan 1, later changes as (date, new total quantity))
ORDERS = (
    ("ABC", Decimal(50), ((date(2026, 1, 16), Decimal(60)), (date(2026, 2, 25), Decimal(55)))),
    ("ABC-SUPPORT", Decimal(20), ((date(2026, 2, 10), Decimal(25)),)),
)
START = date(2026, 1, 1)
PREVIEW_UNTIL = date(2026, 2, 28)


def load_orders(session: Session, clock: Clock, root: Tenant, brand: Tenant) -> None:
    """Apply the catalogue at the parent company and place the case study's orders."""
    apply_catalog(
        session,
        clock=clock,
        ctx=operator_context(session, root.id),
        document=load_catalog_yaml(CATALOG),
    )
    scope = operator_scope(session, brand.id)
    for external_id, quantity, changes in ORDERS:
        account = _account(session, brand, external_id)
        order = SubscriptionCreate(
            account_id=account.id, plan="numbers", quantity=quantity, start_date=START
        )
        sub = create_subscription(session, clock=clock, scope=scope, data=order, actor=CLI_ACTOR)
        for day, new_total in changes:
            change = ChangeCreate.model_validate(
                {
                    "kind": "quantity",
                    "quantity": new_total,
                    "effective": "date",
                    "date": day,
                    "reason": "numbers bought or returned",
                }
            )
            change_subscription(
                session,
                clock=clock,
                scope=scope,
                subscription_id=sub.subscription.id,
                data=change,
                actor=CLI_ACTOR,
            )


def subscribe_holders(
    session: Session, clock: Clock, brand: Tenant, rng: random.Random, *, at: datetime
) -> int:
    """Each customer account holding numbers `at` (but Org ABC's, which order above) subscribes
    to a plan drawn from `PLANS`, one per number it holds; how many subscribed."""
    held = func.count(NumberAssignment.id)
    in_force = or_(NumberAssignment.valid_to.is_(None), NumberAssignment.valid_to > at)
    holders = session.execute(
        select(Account.id, held)
        .join(NumberAssignment, NumberAssignment.account_id == Account.id)
        .where(
            Account.tenant_id == brand.id,
            Account.type != AccountType.VENDOR,
            Account.external_id.not_in([ext for ext, *_ in ORG_ABC]),
            NumberAssignment.valid_from <= at,
            in_force,
        )
        .group_by(Account.id, Account.external_id)
        .order_by(Account.external_id)
    ).all()
    scope = operator_scope(session, brand.id)
    names = [name for name, _ in PLANS]
    weights = [weight for _, weight in PLANS]
    for account_id, numbers in holders:
        order = SubscriptionCreate(
            account_id=account_id,
            plan=rng.choices(names, weights=weights)[0],
            quantity=Decimal(numbers),
            start_date=START,
        )
        create_subscription(session, clock=clock, scope=scope, data=order, actor=CLI_ACTOR)
    return len(holders)


def _account(session: Session, brand: Tenant, external_id: str) -> Account:
    account = session.scalar(
        select(Account).where(Account.tenant_id == brand.id, Account.external_id == external_id)
    )
    if account is None:
        raise RuntimeError(f"demo account {external_id} is missing")
    return account


def upcoming_table(session: Session, brand: Tenant, external_id: str = "ABC") -> Table:
    """One account's recurring charges to `PREVIEW_UNTIL`, as its invoices carry them (the
    demo has billed them: the upcoming-charges preview, net of invoices, shows nothing)."""
    account = _account(session, brand, external_id)
    lines = session.scalars(
        select(InvoiceLine)
        .where(
            InvoiceLine.source_account_id == account.id,
            InvoiceLine.kind == LineKind.RECURRING,
            InvoiceLine.service_start < PREVIEW_UNTIL,
        )
        .order_by(InvoiceLine.service_start, InvoiceLine.service_end.desc())
    ).all()
    table = Table(
        "period",
        "span",
        "quantity",
        "fraction",
        "unit price",
        "layer",
        "amount",
        title=f"{account.name}: its numbers to {PREVIEW_UNTIL} as invoiced (SPEC C4)",
    )
    totals: dict[str, Decimal] = {}
    for line in lines:
        period = f"{date.fromisoformat(line.lineage['period'][0]):%b %Y}"
        last = date.fromordinal(line.service_end.toordinal() - 1) if line.service_end else None
        amount = tidy(line.amount, account.currency)
        totals[period] = totals.get(period, Decimal(0)) + amount
        table.add_row(
            period,
            f"{line.service_start:%b %d} - {last:%b %d}",
            fixed_point(line.quantity.normalize()),
            f"{line.lineage['days']}/{line.lineage['period_days']}",
            fixed_point(tidy(line.unit_price or Decimal(0), account.currency)),
            str(line.lineage.get("layer") or ""),
            f"{amount} {account.currency}",
        )
    for period, total in totals.items():
        table.add_row(period, "total", "", "", "", "", f"{total} {account.currency}")
    return table
