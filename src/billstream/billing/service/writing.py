"""Writing invoices: drafts in bulk, then issued with gapless numbers in the same transaction.

Numbers come from `invoice_sequences`, one row per tenant and series (the year, when the
tenant's format has one), taken under a row lock: two transactions issuing at the same time
take turns, and a transaction that rolls back gives its numbers back with everything else, so
the series never has a gap or a duplicate. Invoices are inserted as drafts with their lines and
taxes, then issued by one bulk update; from then on the database refuses to change them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billstream.billing.assembly import InvoiceDraft
from billstream.billing.models import Invoice, InvoiceLine, InvoiceSequence, InvoiceTax
from billstream.billing.states import InvoiceKind, InvoiceStatus
from billstream.core.clock import Clock
from billstream.core.ids import new_id
from billstream.tenants.service import resolved_settings
from billstream.tenants.settings import format_invoice_number


@dataclass(frozen=True, slots=True)
class ToWrite:
    draft: InvoiceDraft
    issue_date: date
    due_date: date
    kind: InvoiceKind = InvoiceKind.INVOICE
    corrects_id: str | None = None
    reason: str | None = None


def take_numbers(session: Session, tenant_id: str, series: str, count: int) -> int:
    """Reserve `count` consecutive numbers of the series; returns the first. Locks the row
    until the transaction ends."""
    dialect = session.get_bind().dialect.name
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(InvoiceSequence)
    session.execute(
        stmt.values(tenant_id=tenant_id, series=series, next_value=1).on_conflict_do_nothing()
    )
    first = session.execute(
        select(InvoiceSequence.next_value)
        .where(InvoiceSequence.tenant_id == tenant_id, InvoiceSequence.series == series)
        .with_for_update()
    ).scalar_one()
    session.execute(
        update(InvoiceSequence)
        .where(InvoiceSequence.tenant_id == tenant_id, InvoiceSequence.series == series)
        .values(next_value=first + count)
    )
    return int(first)


def write_invoices(
    session: Session,
    clock: Clock,
    *,
    tenant_id: str,
    bill_run_id: str | None,
    invoices: Sequence[ToWrite],
    issue: bool = True,
) -> list[str]:
    """Insert the invoices (and issue them unless `issue` is false); their ids, in order."""
    if not invoices:
        return []
    now = clock.now()
    ids = [new_id("inv") for _ in invoices]
    session.execute(
        insert(Invoice),
        [
            {
                "id": invoice_id,
                "tenant_id": tenant_id,
                "account_id": item.draft.account_id,
                "bill_run_id": bill_run_id,
                "kind": item.kind,
                "corrects_id": item.corrects_id,
                "number": None,
                "status": InvoiceStatus.DRAFT,
                "currency": item.draft.currency,
                "period_start": item.draft.period_start,
                "period_end": item.draft.period_end,
                "issue_date": item.issue_date,
                "due_date": item.due_date,
                "subtotal": item.draft.subtotal,
                "tax_total": item.draft.tax_total,
                "total": item.draft.total,
                "amount_paid": Decimal(0),
                "issued_at": None,
                "reason": item.reason,
                "created_at": now,
                "updated_at": now,
            }
            for invoice_id, item in zip(ids, invoices, strict=True)
        ],
    )
    lines = [
        {
            "id": new_id("inl"),
            "tenant_id": tenant_id,
            "invoice_id": invoice_id,
            "position": line.position,
            "line_key": line.charge.line_key,
            "source_account_id": line.charge.source_account_id,
            "kind": line.charge.kind,
            "description": line.charge.description[:300],
            "service_start": line.charge.service_start,
            "service_end": line.charge.service_end,
            "quantity": line.charge.quantity,
            "unit_price": line.charge.unit_price,
            "amount": line.charge.amount,
            "subscription_id": line.charge.subscription_id,
            "charge": line.charge.charge,
            "usage_type": line.charge.usage_type,
            "destination": line.charge.destination,
            "tax_jurisdiction": line.tax_jurisdiction,
            "lineage": dict(line.charge.lineage),
        }
        for invoice_id, item in zip(ids, invoices, strict=True)
        for line in item.draft.lines
    ]
    if lines:
        session.execute(insert(InvoiceLine), lines)
    taxes = [
        {
            "id": new_id("itx"),
            "tenant_id": tenant_id,
            "invoice_id": invoice_id,
            "position": position,
            "jurisdiction": tax.jurisdiction,
            "name": tax.name,
            "rate": tax.rate,
            "taxable": tax.taxable,
            "amount": tax.amount,
            "rule_id": tax.rule_id,
        }
        for invoice_id, item in zip(ids, invoices, strict=True)
        for position, tax in enumerate(item.draft.taxes, start=1)
    ]
    if taxes:
        session.execute(insert(InvoiceTax), taxes)
    if issue:
        issue_invoices(session, clock, tenant_id=tenant_id, invoice_ids=ids)
    return ids


def issue_invoices(
    session: Session, clock: Clock, *, tenant_id: str, invoice_ids: Sequence[str]
) -> list[str]:
    """Number and issue draft invoices of one tenant, in the given order; their numbers."""
    if not invoice_ids:
        return []
    settings = resolved_settings(session, tenant_id)
    dates = dict(
        session.execute(
            select(Invoice.id, Invoice.issue_date).where(Invoice.id.in_(list(invoice_ids)))
        ).all()
    )
    by_series: dict[str, list[str]] = {}
    for invoice_id in invoice_ids:
        day = dates[invoice_id] or clock.now().date()
        series = str(day.year) if "{year" in settings.invoice_format else ""
        by_series.setdefault(series, []).append(invoice_id)
    now = clock.now()
    numbers: dict[str, str] = {}
    for series, ids in sorted(by_series.items()):
        first = take_numbers(session, tenant_id, series, len(ids))
        for offset, invoice_id in enumerate(ids):
            day = dates[invoice_id] or now.date()
            numbers[invoice_id] = format_invoice_number(settings, year=day.year, seq=first + offset)
    session.execute(
        update(Invoice),
        [
            {
                "id": invoice_id,
                "status": InvoiceStatus.ISSUED,
                "number": numbers[invoice_id],
                "issued_at": now,
                "updated_at": now,
            }
            for invoice_id in invoice_ids
        ],
    )
    return [numbers[i] for i in invoice_ids]
