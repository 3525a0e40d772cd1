"""A small provider for bill-run tests: a numbers plan, accounts and SPEC's orders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from billstream.billing.models import BillRunItem, Invoice, InvoiceLine
from billstream.billing.service.runs import BillRunRequest, dry_run
from billstream.core.clock import FakeClock
from billstream.jobs.bill_runs import RunSummary, execute_bill_run
from billstream.subscriptions.schemas import ChangeCreate
from billstream.subscriptions.service import CLI_ACTOR, change_subscription
from billstream.tenants.models import Tenant
from billstream.tenants.service import operator_scope
from tests.factories import (
    apply_catalog_yaml,
    context_of,
    make_account,
    make_subscription,
    make_tenant,
)


def numbers_catalog(timing: str) -> str:
    return f"""\
effective_from: 2025-01-01
products:
  - {{code: numbers, name: Phone number, kind: recurring}}
plans:
  - code: numbers
    name: Numbers, monthly
    currencies: [USD]
    charges:
      - code: numbers
        product: numbers
        timing: {timing}
        cadence: monthly
        prices:
          - {{currency: USD, model: {{type: per_unit, unit_price: 5.00}}}}
"""


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def numbers_tenant(session: Session, clock: FakeClock, timing: str) -> Tenant:
    """On Dec 20, 2025: a tenant selling the numbers plan billed in `timing`."""
    clock.set(at(date(2025, 12, 20)))
    tenant = make_tenant(session, clock)
    apply_catalog_yaml(session, clock, tenant, numbers_catalog(timing))
    return tenant


def spec_account(
    session: Session, clock: FakeClock, timing: str, name: str = "Case Study Co"
) -> tuple[Tenant, Any]:
    """A numbers tenant and one account with SPEC C4's orders, committed."""
    tenant = numbers_tenant(session, clock, timing)
    account = make_account(session, clock, tenant, name=name)
    spec_orders(session, clock, tenant, account)
    session.commit()
    return tenant, account


def spec_orders(session: Session, clock: FakeClock, tenant: Tenant, account: Any) -> str:
    """SPEC C4: 50 numbers from Jan 1, 60 from Jan 16, 55 from Feb 25 (all ordered ahead)."""
    sub = make_subscription(
        session, clock, account, "numbers", quantity=Decimal(50), start_date=date(2026, 1, 1)
    )
    for day, quantity in ((date(2026, 1, 16), 60), (date(2026, 2, 25), 55)):
        change_subscription(
            session,
            clock=clock,
            scope=operator_scope(session, tenant.id),
            subscription_id=sub.subscription.id,
            data=ChangeCreate.model_validate(
                {
                    "kind": "quantity",
                    "quantity": quantity,
                    "effective": "date",
                    "date": day,
                    "reason": "customer asked",
                }
            ),
            actor=CLI_ACTOR,
        )
    return sub.subscription.id


def run(
    sessions: sessionmaker[Session],
    clock: FakeClock,
    tenant: Tenant,
    day: date,
    **request: Any,
) -> RunSummary:
    with sessions() as session:
        ctx = context_of(session, tenant)
    return execute_bill_run(
        sessions,
        clock,
        ctx=ctx,
        request=BillRunRequest(tenant_id=tenant.id, day=day, **request),
        actor="test",
    )


def preview(session: Session, clock: FakeClock, tenant: Tenant, day: date, **request: Any) -> Any:
    return dry_run(
        session,
        clock,
        ctx=context_of(session, tenant),
        request=BillRunRequest(tenant_id=tenant.id, day=day, **request),
    )


def invoices_of(session: Session, account_id: str) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice).where(Invoice.account_id == account_id).order_by(Invoice.number)
        )
    )


def lines_of(session: Session, invoice_id: str) -> list[InvoiceLine]:
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
    )


def counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Invoice)) or 0,
        session.scalar(select(func.count()).select_from(InvoiceLine)) or 0,
        session.scalar(select(func.count()).select_from(BillRunItem)) or 0,
    )
