"""Invoices as HTML and PDF: one, or a batch written to files with one renderer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.billing.models import Invoice
from billstream.billing.service import get_invoice
from billstream.billing.states import InvoiceStatus
from billstream.core.errors import ConflictError
from billstream.documents.errors import DocumentErrorCode
from billstream.documents.models import TemplateKind
from billstream.documents.rendering import DocumentRenderer
from billstream.documents.service.loading import document_of
from billstream.documents.service.renderers import current_renderer
from billstream.documents.service.templates import template_in_force, template_kind
from billstream.documents.view import InvoiceDocument
from billstream.tenants.models import Tenant
from billstream.tenants.scope import TenantScope

UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
RECEIPTED = frozenset({InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID})


def _checked(invoice: Invoice, kind: TemplateKind) -> None:
    if kind == TemplateKind.RECEIPT and invoice.status not in RECEIPTED:
        raise ConflictError(
            f"a receipt is for a paid invoice; {invoice.number or invoice.id} is {invoice.status}",
            code=DocumentErrorCode.INVOICE_NOT_ISSUED,
            field="status",
        )


def html_of(
    session: Session, invoice: Invoice, *, kind: TemplateKind, renderer: DocumentRenderer
) -> tuple[InvoiceDocument, str]:
    """The document of `invoice` and its HTML, through the template in force for its account."""
    _checked(invoice, kind)
    document = document_of(session, invoice)
    template = template_in_force(
        session, tenant_id=invoice.tenant_id, account_id=invoice.account_id, kind=kind
    )
    return document, renderer.html(document, kind=kind, body=template.body if template else None)


def render_invoice_html(
    session: Session,
    *,
    scope: TenantScope,
    invoice_id: str,
    kind: str = TemplateKind.INVOICE,
    renderer: DocumentRenderer | None = None,
) -> str:
    """The invoice (or its receipt: `kind="receipt"`) as HTML, in its customer's template."""
    invoice = get_invoice(session, scope=scope, invoice_id=invoice_id)
    renderer = renderer or current_renderer()
    _, html = html_of(session, invoice, kind=template_kind(kind), renderer=renderer)
    return html


def render_invoice_pdf(
    session: Session,
    *,
    scope: TenantScope,
    invoice_id: str,
    kind: str = TemplateKind.INVOICE,
    renderer: DocumentRenderer | None = None,
) -> bytes:
    """The invoice (or its receipt) as PDF bytes."""
    invoice = get_invoice(session, scope=scope, invoice_id=invoice_id)
    return pdf_of(session, invoice, kind=template_kind(kind), renderer=renderer)


def pdf_of(
    session: Session,
    invoice: Invoice,
    *,
    kind: TemplateKind = TemplateKind.INVOICE,
    renderer: DocumentRenderer | None = None,
) -> bytes:
    renderer = renderer or current_renderer()
    document, html = html_of(session, invoice, kind=kind, renderer=renderer)
    return renderer.pdf(html, document=document)


def pdf_filename(invoice: Invoice) -> str:
    """``INV-2026-000042.pdf``; a draft (no number yet) is named by its id."""
    return UNSAFE_IN_FILENAME.sub("_", invoice.number or invoice.id) + ".pdf"


def write_invoice_pdfs(
    session: Session,
    *,
    scope: TenantScope,
    invoice_ids: Sequence[str],
    directory: Path,
    renderer: DocumentRenderer | None = None,
) -> list[Path]:
    """Write each invoice's PDF to ``directory/<tenant-slug>/<number>.pdf``; the paths.

    One renderer serves the whole batch (fonts, templates and logos loaded once). Invoices
    outside `scope` are not found, and the first failure stops the batch.
    """
    renderer = renderer or current_renderer()
    wanted = list(dict.fromkeys(invoice_ids))
    rows = session.execute(
        select(Invoice, Tenant.slug)
        .join(Tenant, Tenant.id == Invoice.tenant_id)
        .where(Invoice.id.in_(wanted), scope.filter(Invoice))
    ).all()
    found = {invoice.id: (invoice, slug) for invoice, slug in rows}
    paths = []
    for invoice_id in wanted:
        if invoice_id not in found:
            get_invoice(session, scope=scope, invoice_id=invoice_id)  # raises not found
        invoice, slug = found[invoice_id]
        target = directory / slug / pdf_filename(invoice)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pdf_of(session, invoice, renderer=renderer))
        paths.append(target)
    return paths
