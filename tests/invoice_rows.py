"""Invoices written the way a bill run writes them: a draft, its lines and taxes, then issued.

For the documents tests, which need invoices without running a bill run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.billing.models import Invoice, InvoiceLine, InvoiceTax
from billstream.core.clock import Clock
from billstream.core.ids import new_id


@dataclass(frozen=True)
class Line:
    description: str
    amount: Decimal
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    kind: str = "recurring"
    account: Account | None = None  # the sub-account whose charge it is; default the payer
    usage_type: str | None = None
    destination: str | None = None
    lineage: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Tax:
    name: str
    rate: Decimal
    taxable: Decimal
    amount: Decimal
    jurisdiction: str = "GB"


def insert_invoice(
    session: Session,
    clock: Clock,
    account: Account,
    lines: list[Line],
    *,
    taxes: Sequence[Tax] = (),
    number: str | None = "INV-2026-000001",
    status: str = "issued",
    kind: str = "invoice",
    corrects: Invoice | None = None,
    amount_paid: Decimal = Decimal(0),
) -> Invoice:
    """An invoice of `account` for January 2026; `number=None` leaves it a draft."""
    now = clock.now()
    subtotal = sum((x.amount for x in lines), Decimal(0))
    tax_total = sum((t.amount for t in taxes), Decimal(0))
    invoice = Invoice(
        id=new_id("inv"),
        tenant_id=account.tenant_id,
        account_id=account.id,
        bill_run_id=None,
        kind=kind,
        corrects_id=corrects.id if corrects else None,
        number=None,
        status="draft",
        currency=account.currency,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 2, 1),
        issue_date=date(2026, 2, 1),
        due_date=date(2026, 2, 15),
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
        amount_paid=Decimal(0),
        issued_at=None,
        reason="a correction" if kind == "credit_note" else None,
        created_at=now,
        updated_at=now,
    )
    session.add(invoice)
    session.flush()
    session.add_all(
        InvoiceLine(
            tenant_id=account.tenant_id,
            invoice_id=invoice.id,
            position=i,
            line_key=f"{invoice.id}:{i}",
            source_account_id=(x.account or account).id,
            kind=x.kind,
            description=x.description,
            service_start=date(2026, 1, 1),
            service_end=date(2026, 2, 1),
            quantity=x.quantity,
            unit_price=x.unit_price,
            amount=x.amount,
            usage_type=x.usage_type,
            destination=x.destination,
            lineage=x.lineage,
        )
        for i, x in enumerate(lines, start=1)
    )
    session.add_all(
        InvoiceTax(
            tenant_id=account.tenant_id,
            invoice_id=invoice.id,
            position=i,
            jurisdiction=t.jurisdiction,
            name=t.name,
            rate=t.rate,
            taxable=t.taxable,
            amount=t.amount,
        )
        for i, t in enumerate(taxes, start=1)
    )
    session.flush()
    if number is not None:
        session.execute(
            update(Invoice)
            .where(Invoice.id == invoice.id)
            .values(status="issued", number=number, issued_at=now)
        )
        if status != "issued" or amount_paid:
            session.execute(
                update(Invoice)
                .where(Invoice.id == invoice.id)
                .values(status=status, amount_paid=amount_paid)
            )
        session.expire(invoice)
    return invoice
