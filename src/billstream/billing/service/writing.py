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

from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billstream.billing.assembly import InvoiceDraft
from billstream.billing.models import Invoice, InvoiceLine, InvoiceSequence, InvoiceTax
from billstream.billing.states import InvoiceKind, InvoiceStatus
from billstream.core.clock import Clock
from billstream.core.ids import new_id
from billstream.db.bulk import insert_rows
from billstream.db.lists import among
from billstream.db.locks import locked
from billstream.tenants.invoice_numbers import parse_invoice_format
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


INVOICE_COLUMNS = (
    "id", "tenant_id", "account_id", "bill_run_id", "kind", "corrects_id", "number", "status",
    "currency", "period_start", "period_end", "issue_date", "due_date", "subtotal",
    "tax_total", "total", "amount_paid", "issued_at", "reason", "created_at", "updated_at",
)  # fmt: skip
LINE_COLUMNS = (
    "tenant_id", "invoice_id", "position", "line_key", "source_account_id", "kind",
    "description", "service_start", "service_end", "quantity", "unit_price", "amount",
    "subscription_id", "charge", "usage_type", "destination", "tax_jurisdiction", "lineage",
)  # fmt: skip
TAX_COLUMNS = (
    "tenant_id", "invoice_id", "position", "jurisdiction", "name", "rate", "taxable",
    "amount", "rule_id",
)  # fmt: skip


def take_numbers(session: Session, tenant_id: str, series: str, count: int) -> int:
    """Reserve `count` consecutive numbers of the series; returns the first. Locks the row
    until the transaction ends."""
    dialect = session.get_bind().dialect.name
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(InvoiceSequence)
    session.execute(
        stmt.values(tenant_id=tenant_id, series=series, next_value=1).on_conflict_do_nothing()
    )
    first = session.execute(
        locked(
            select(InvoiceSequence.next_value).where(
                InvoiceSequence.tenant_id == tenant_id, InvoiceSequence.series == series
            )
        )
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
    insert_rows(
        session,
        Invoice.__table__,  # type: ignore[arg-type]
        INVOICE_COLUMNS,
        (
            (
                invoice_id, tenant_id, item.draft.account_id, bill_run_id, item.kind,
                item.corrects_id, None, InvoiceStatus.DRAFT.value, item.draft.currency,
                item.draft.period_start, item.draft.period_end, item.issue_date, item.due_date,
                item.draft.subtotal.amount, item.draft.tax_total.amount, item.draft.total.amount,
                Decimal(0), None,
                item.reason, now, now,
            )
            for invoice_id, item in zip(ids, invoices, strict=True)
        ),
    )  # fmt: skip
    insert_rows(
        session,
        InvoiceLine.__table__,  # type: ignore[arg-type]
        LINE_COLUMNS,
        (
            (
                tenant_id, invoice_id, line.position, c.line_key,
                c.source_account_id, c.kind.value, c.description[:300], c.service_start,
                c.service_end, c.quantity, c.unit_price, c.amount.amount, c.subscription_id,
                c.charge, c.usage_type, c.destination, line.tax_jurisdiction, dict(c.lineage),
            )
            for invoice_id, item in zip(ids, invoices, strict=True)
            for line in item.draft.lines
            for c in (line.charge,)
        ),
    )  # fmt: skip
    insert_rows(
        session,
        InvoiceTax.__table__,  # type: ignore[arg-type]
        TAX_COLUMNS,
        (
            (
                tenant_id, invoice_id, position, tax.jurisdiction, tax.name,
                tax.rate, tax.taxable, tax.amount, tax.rule_id,
            )
            for invoice_id, item in zip(ids, invoices, strict=True)
            for position, tax in enumerate(item.draft.taxes, start=1)
        ),
    )  # fmt: skip
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
            select(Invoice.id, Invoice.issue_date).where(among(session, Invoice.id, invoice_ids))
        ).all()
    )
    by_year = parse_invoice_format(settings.invoice_format).uses_year
    by_series: dict[str, list[str]] = {}
    for invoice_id in invoice_ids:
        day = dates[invoice_id] or clock.now().date()
        series = str(day.year) if by_year else ""
        by_series.setdefault(series, []).append(invoice_id)
    now = clock.now()
    numbers: dict[str, str] = {}
    for series, ids in sorted(by_series.items()):
        first = take_numbers(session, tenant_id, series, len(ids))
        for offset, invoice_id in enumerate(ids):
            day = dates[invoice_id] or now.date()
            numbers[invoice_id] = format_invoice_number(settings, year=day.year, seq=first + offset)
    if session.get_bind().dialect.name == "postgresql":
        # one statement for the whole chunk
        session.execute(
            text(
                "UPDATE invoices SET status = :status, number = v.number, issued_at = :now, "
                "updated_at = :now FROM unnest(CAST(:ids AS text[]), CAST(:numbers AS text[])) "
                "AS v(id, number) WHERE invoices.id = v.id"
            ),
            {
                "status": InvoiceStatus.ISSUED.value,
                "now": now,
                "ids": list(invoice_ids),
                "numbers": [numbers[i] for i in invoice_ids],
            },
        )
    else:
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
    for loaded in list(session.identity_map.values()):  # changed under the ORM's feet
        if isinstance(loaded, Invoice) and loaded.id in numbers:
            session.expire(loaded)
    return [numbers[i] for i in invoice_ids]
