"""Fetch an invoice and everything its document shows, in a fixed handful of queries.

The invoice (scoped), its lines, its taxes, the payer's account tree (one recursive query and
one load), the corrected invoice's number, and the tenant's settings chain: no query per line
or per sub-account, whatever the invoice's size.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.billing.models import Invoice, InvoiceLine, InvoiceTax
from billstream.billing.service import get_invoice
from billstream.core.errors import ConflictError, NotFoundError
from billstream.db import tree
from billstream.documents.rendering import logo_source
from billstream.documents.view import (
    AccountRecord,
    InvoiceDocument,
    InvoiceRecord,
    LineRecord,
    TaxRecord,
    brand_of,
    build_invoice_document,
    document_locale,
)
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import ancestor_chain
from billstream.tenants.settings import resolve_settings


def find_invoice(session: Session, *, scope: TenantScope, ref: str) -> Invoice:
    """An invoice in `scope` by id or number, blamed on a command's INVOICE argument."""
    try:
        return get_invoice(session, scope=scope, invoice_id=ref)
    except NotFoundError:
        raise NotFoundError(f"no invoice has the id or number {ref!r}", field="invoice") from None
    except ConflictError as exc:
        detail = f"{exc.detail}, or name its tenant with --tenant"
        raise ConflictError(detail, code=exc.code, field="invoice") from None


def _account_record(account: Account) -> AccountRecord:
    return AccountRecord(
        id=account.id,
        name=account.name,
        parent_id=account.parent_id,
        email=account.email,
        billing_address=account.billing_address,
    )


def _invoice_record(invoice: Invoice, corrects_number: str | None) -> InvoiceRecord:
    return InvoiceRecord(
        id=invoice.id,
        account_id=invoice.account_id,
        kind=invoice.kind,
        number=invoice.number,
        status=invoice.status,
        currency=invoice.currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        subtotal=invoice.subtotal,
        tax_total=invoice.tax_total,
        total=invoice.total,
        amount_paid=invoice.amount_paid,
        reason=invoice.reason,
        corrects_number=corrects_number,
    )


def _lines(session: Session, invoice_id: str) -> list[LineRecord]:
    rows = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position)
    )
    return [
        LineRecord(
            position=r.position,
            source_account_id=r.source_account_id,
            kind=r.kind,
            description=r.description,
            service_start=r.service_start,
            service_end=r.service_end,
            quantity=r.quantity,
            unit_price=r.unit_price,
            amount=r.amount,
            usage_type=r.usage_type,
            destination=r.destination,
            lineage=r.lineage or {},
        )
        for r in rows
    ]


def _taxes(session: Session, invoice_id: str) -> list[TaxRecord]:
    rows = session.scalars(
        select(InvoiceTax).where(InvoiceTax.invoice_id == invoice_id).order_by(InvoiceTax.position)
    )
    return [
        TaxRecord(r.position, r.jurisdiction, r.name, r.rate, r.taxable, r.amount) for r in rows
    ]


def payer_tree(session: Session, payer_id: str) -> dict[str, Account]:
    """The paying account and all its descendants, by id (two queries)."""
    ids = tree.subtree_ids(session, Account, payer_id)
    return {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))}


def invoice_document(session: Session, *, scope: TenantScope, invoice_id: str) -> InvoiceDocument:
    """The document of an invoice in `scope`: branded, formatted in the customer's locale."""
    invoice = get_invoice(session, scope=scope, invoice_id=invoice_id)
    return document_of(session, invoice)


def document_of(session: Session, invoice: Invoice) -> InvoiceDocument:
    """The document of an invoice already loaded (and already checked against a scope)."""
    chain = ancestor_chain(session, invoice.tenant_id)
    settings = resolve_settings([(t.id, t.overrides()) for t in chain])
    accounts = payer_tree(session, invoice.account_id)
    payer = accounts.get(invoice.account_id)
    corrects = (
        session.scalar(select(Invoice.number).where(Invoice.id == invoice.corrects_id))
        if invoice.corrects_id
        else None
    )
    brand = brand_of(
        settings.branding,
        tenant_name=chain[-1].name,
        logo_src=logo_source(settings.branding.logo_url),
    )
    return build_invoice_document(
        _invoice_record(invoice, corrects),
        lines=_lines(session, invoice.id),
        taxes=_taxes(session, invoice.id),
        accounts={k: _account_record(v) for k, v in accounts.items()},
        brand=brand,
        locale=document_locale(payer.language if payer else None, settings.locale),
    )
