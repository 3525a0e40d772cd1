"""Invoices after their bill run: reading them, their payment status, voiding, credit notes.

An issued invoice never changes its amounts or lines (the database refuses it); what may move
on is its status: issued → partially paid → paid as payments are recorded, or void (cancelled
in full while nothing was paid). A correction is a credit note: a new document with its own
number from the same gapless series, pointing at the invoice, whose lines take back some or
all of the invoice's lines (never more than is left of each after earlier credit notes), with
the taxes of what it takes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from billstream.billing.credit_notes import (
    CreditableLine,
    CreditedInvoice,
    CreditRequest,
    credit_note,
)
from billstream.billing.errors import BillingErrorCode
from billstream.billing.models import BillRun, BillRunItem, Invoice, InvoiceLine, InvoiceTax
from billstream.billing.service.due import tax_rules
from billstream.billing.service.writing import ToWrite, write_invoices
from billstream.billing.states import InvoiceKind, InvoiceStatus
from billstream.billing.taxes import PercentageByJurisdiction
from billstream.core.clock import Clock
from billstream.core.errors import ConflictError, InvalidInputError, NotFoundError
from billstream.core.money import Money, minor_unit
from billstream.db.locks import locked
from billstream.db.pagination import Page, paginate
from billstream.rating.models import Rate, RatedUsage
from billstream.subscriptions.charges import LineKind
from billstream.tenants.repository import get_in_scope
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import resolved_settings, tenant_tree


def invoices_query(
    scope: TenantScope,
    *,
    account_id: str | None = None,
    status: str | None = None,
    bill_run_id: str | None = None,
) -> Select[Invoice]:
    stmt = select(Invoice).where(scope.filter(Invoice))
    if account_id is not None:
        stmt = stmt.where(Invoice.account_id == account_id)
    if status is not None:
        stmt = stmt.where(Invoice.status == status)
    if bill_run_id is not None:
        stmt = stmt.where(Invoice.bill_run_id == bill_run_id)
    return stmt


def get_invoice(
    session: Session, *, scope: TenantScope, invoice_id: str, lock: bool = False
) -> Invoice:
    """An invoice by id or number: the one resolver of every route and command that names
    an invoice. Another tenant's reads as not found; a number that several tenants of the
    scope issued (brands numbering alike) is refused, as it does not say which. `lock`: hold
    its row until the transaction ends (changes of one invoice take turns)."""
    stmt = (
        select(Invoice)
        .where(scope.filter(Invoice), (Invoice.id == invoice_id) | (Invoice.number == invoice_id))
        .order_by(Invoice.id)
        .limit(2)
    )
    found = list(session.scalars(locked(stmt) if lock else stmt))
    if not found:
        raise NotFoundError(f"invoice {invoice_id!r} not found", field="invoice_id")
    if len(found) > 1:
        raise ConflictError(
            f"several invoices have the number {invoice_id!r}: use the invoice's id",
            code=BillingErrorCode.AMBIGUOUS_NUMBER,
            field="invoice_id",
        )
    return found[0]


def invoice_lines(session: Session, invoice_id: str) -> list[InvoiceLine]:
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
    )


def invoice_taxes(session: Session, invoice_id: str) -> list[InvoiceTax]:
    return list(
        session.scalars(
            select(InvoiceTax)
            .where(InvoiceTax.invoice_id == invoice_id)
            .order_by(InvoiceTax.position)
        )
    )


def get_bill_run(session: Session, *, scope: TenantScope, run_id: str) -> BillRun:
    return get_in_scope(session, BillRun, run_id, scope=scope, label="bill run", field="run_id")


def failed_items(session: Session, run_id: str) -> list[BillRunItem]:
    return list(
        session.scalars(
            select(BillRunItem)
            .where(BillRunItem.run_id == run_id, BillRunItem.status == "failed")
            .order_by(BillRunItem.account_id)
        )
    )


def record_payment(
    session: Session, clock: Clock, *, scope: TenantScope, invoice_id: str, amount: Decimal
) -> Invoice:
    """Apply `amount` paid to an issued invoice: partially paid, then paid when covered."""
    invoice = get_invoice(session, scope=scope, invoice_id=invoice_id, lock=True)
    if invoice.kind != InvoiceKind.INVOICE or invoice.status not in (
        InvoiceStatus.ISSUED,
        InvoiceStatus.PARTIALLY_PAID,
    ):
        raise ConflictError(
            f"invoice {invoice.number or invoice.id} is {invoice.status}: it takes no payment",
            code=BillingErrorCode.INVALID_TRANSITION,
            field="invoice_id",
        )
    if amount <= 0 or amount > invoice.total - invoice.amount_paid:
        raise InvalidInputError(
            f"a payment is more than 0 and at most the {invoice.total - invoice.amount_paid} "
            "left to pay",
            field="amount",
        )
    invoice.amount_paid += amount
    invoice.status = (
        InvoiceStatus.PAID if invoice.amount_paid == invoice.total else InvoiceStatus.PARTIALLY_PAID
    )
    invoice.updated_at = clock.now()
    session.flush()
    return invoice


def void_invoice(
    session: Session, clock: Clock, *, scope: TenantScope, invoice_id: str, reason: str
) -> Invoice:
    """Cancel an issued, unpaid invoice in full. Its number stays used (the series keeps no
    gap); its charges are not billed again: correct a charge with a credit note instead."""
    invoice = get_invoice(session, scope=scope, invoice_id=invoice_id, lock=True)
    if invoice.status != InvoiceStatus.ISSUED or invoice.amount_paid:
        raise ConflictError(
            f"invoice {invoice.number or invoice.id} is {invoice.status}: only an issued, "
            "unpaid invoice can be voided",
            code=BillingErrorCode.INVALID_TRANSITION,
            field="invoice_id",
        )
    invoice.status = InvoiceStatus.VOID
    invoice.reason = reason
    invoice.updated_at = clock.now()
    session.flush()
    return invoice


def credited_so_far(session: Session, invoice_id: str) -> dict[int, Decimal]:
    """How much of each line of the invoice its credit notes already took back (positive)."""
    rows = session.execute(
        select(InvoiceLine.lineage, InvoiceLine.amount)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.corrects_id == invoice_id, Invoice.kind == InvoiceKind.CREDIT_NOTE)
    )
    out: dict[int, Decimal] = {}
    for lineage, amount in rows.all():
        position = int(lineage["corrects_position"])
        out[position] = out.get(position, Decimal(0)) - amount
    return out


def creditable(session: Session, invoice: Invoice) -> CreditedInvoice:
    """The invoice as a credit note reads it: its lines, and what its notes took back."""
    taken = credited_so_far(session, invoice.id)
    currency = invoice.currency
    return CreditedInvoice(
        id=invoice.id,
        number=invoice.number,
        account_id=invoice.account_id,
        currency=currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issue_date=invoice.issue_date,
        lines=tuple(
            CreditableLine(
                position=line.position,
                source_account_id=line.source_account_id,
                description=line.description,
                amount=Money(line.amount, currency),
                credited=Money(taken.get(line.position, Decimal(0)), currency),
                tax_jurisdiction=line.tax_jurisdiction,
                service_start=line.service_start,
                service_end=line.service_end,
                subscription_id=line.subscription_id,
                charge=line.charge,
                usage_type=line.usage_type,
                destination=line.destination,
            )
            for line in invoice_lines(session, invoice.id)
        ),
    )


def create_credit_note(
    session: Session,
    clock: Clock,
    *,
    scope: TenantScope,
    invoice_id: str,
    lines: Sequence[CreditRequest] | None,
    reason: str,
    on: date,
) -> Invoice:
    """Issue a credit note correcting an issued invoice: the given lines (or every line, for
    what is left of it), with their taxes recomputed on what is taken back
    (`billing.credit_notes`)."""
    invoice = get_invoice(session, scope=scope, invoice_id=invoice_id, lock=True)
    if invoice.kind != InvoiceKind.INVOICE or invoice.status == InvoiceStatus.DRAFT:
        raise ConflictError(
            "only an issued invoice can be corrected by a credit note",
            code=BillingErrorCode.INVALID_TRANSITION,
            field="invoice_id",
        )
    settings = resolved_settings(session, invoice.tenant_id)
    places = settings.line_precision
    if places is None:
        places = minor_unit(invoice.currency)
    note = 1 + (session.scalar(select(func.count()).where(Invoice.corrects_id == invoice.id)) or 0)
    creditable_invoice = creditable(session, invoice)
    taxed_on = creditable_invoice.issue_date or on  # the rules in force when it was issued
    tax = tax_rules(session, tenant_tree(session, invoice.tenant_id), invoice.tenant_id, taxed_on)
    draft = credit_note(
        creditable_invoice,
        lines,
        note=note,
        places=places,
        calculator=PercentageByJurisdiction(tax),
        on=on,
    )
    [note_id] = write_invoices(
        session,
        clock,
        tenant_id=invoice.tenant_id,
        bill_run_id=None,
        invoices=[
            ToWrite(
                draft,
                issue_date=on,
                due_date=on,
                kind=InvoiceKind.CREDIT_NOTE,
                corrects_id=invoice.id,
                reason=reason,
            )
        ],
    )
    return get_invoice(session, scope=scope, invoice_id=note_id)


def line_records(
    session: Session,
    *,
    scope: TenantScope,
    invoice_id: str,
    position: int,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[RatedUsage]:
    """The rated records behind a usage line: the rows of the rating runs it summed, of its
    sub-account, usage type and destination, as they were when invoiced (each with its rate,
    card version, prefix, band, increments and allowance)."""
    invoice = get_invoice(session, scope=scope, invoice_id=invoice_id)
    line = session.scalar(
        select(InvoiceLine).where(
            InvoiceLine.invoice_id == invoice.id, InvoiceLine.position == position
        )
    )
    if line is None:
        raise NotFoundError(f"invoice {invoice.number} has no line {position}", field="position")
    if line.kind not in (LineKind.USAGE, LineKind.USAGE_CORRECTION):
        raise InvalidInputError(
            f"line {position} is a {line.kind} line: only usage lines have rated records",
            field="position",
        )
    stmt = (
        select(RatedUsage)
        .outerjoin(Rate, Rate.id == RatedUsage.rate_id)
        .where(
            RatedUsage.tenant_id == invoice.tenant_id,
            RatedUsage.run_id.in_(list(line.lineage.get("rating_runs", []))),
            RatedUsage.account_id == line.source_account_id,
            RatedUsage.usage_type == line.usage_type,
            RatedUsage.reject_reason.is_(None),
            func.coalesce(Rate.description, RatedUsage.usage_type) == line.destination,
        )
    )
    return paginate(session, stmt, RatedUsage.id, cursor=cursor, limit=limit)
