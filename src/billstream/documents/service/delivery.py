"""E-mail an invoice: the branded message with its PDF attached, recorded as a delivery.

A draft is never sent and an account without an e-mail address is refused, naming the
field. An invoice already sent is not sent again unless asked (`force`). A transport failure
(the SMTP server refuses or cannot be reached) is recorded as a failed delivery with its
reason, so the caller commits the record and may retry.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.billing.models import Invoice
from billstream.billing.service import get_invoice
from billstream.billing.states import InvoiceStatus
from billstream.core.clock import Clock
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.core.ids import new_id
from billstream.documents.errors import DocumentErrorCode
from billstream.documents.mailer import Mailer
from billstream.documents.models import DeliveryStatus, InvoiceDelivery, TemplateKind
from billstream.documents.rendering import DocumentRenderer
from billstream.documents.service.output import html_of, pdf_filename
from billstream.documents.service.renderers import current_renderer
from billstream.documents.service.templates import template_in_force
from billstream.tenants.scope import TenantScope

MAX_ERROR = 1000


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery of an invoice; `already_sent`: an earlier one, returned without sending."""

    id: str
    invoice_id: str
    to: str
    sent_at: datetime
    message_id: str | None
    status: str
    error: str | None
    already_sent: bool = False


def _view(row: InvoiceDelivery, *, already_sent: bool = False) -> Delivery:
    return Delivery(
        id=row.id,
        invoice_id=row.invoice_id,
        to=row.to,
        sent_at=row.sent_at,
        message_id=row.message_id,
        status=row.status,
        error=row.error,
        already_sent=already_sent,
    )


def _recipient(session: Session, invoice: Invoice) -> str:
    if invoice.status == InvoiceStatus.DRAFT:
        raise ConflictError(
            f"invoice {invoice.id} is a draft: issue it before sending it",
            code=DocumentErrorCode.INVOICE_NOT_ISSUED,
            field="status",
        )
    account = session.get(Account, invoice.account_id)
    if account is None or not account.email:
        raise InvalidInputError(
            f"account {invoice.account_id} has no e-mail address to send invoice "
            f"{invoice.number} to; set the account's email",
            code=DocumentErrorCode.NO_EMAIL,
            field="email",
        )
    return account.email


def deliveries(session: Session, *, scope: TenantScope, invoice_id: str) -> list[Delivery]:
    """Every e-mail of an invoice, oldest first."""
    invoice = get_invoice(session, scope=scope, invoice_id=invoice_id)
    rows = session.scalars(
        select(InvoiceDelivery)
        .where(InvoiceDelivery.invoice_id == invoice.id)
        .order_by(InvoiceDelivery.sent_at, InvoiceDelivery.id)
    )
    return [_view(r) for r in rows]


def send_invoice(
    session: Session,
    clock: Clock,
    *,
    scope: TenantScope,
    invoice_id: str,
    mailer: Mailer,
    sender: str = "billing@localhost",
    force: bool = False,
    renderer: DocumentRenderer | None = None,
) -> Delivery:
    """Send an issued invoice to its account's e-mail with the PDF attached; record it."""
    invoice = get_invoice(session, scope=scope, invoice_id=invoice_id)
    to = _recipient(session, invoice)
    if not force:
        earlier = session.scalar(
            select(InvoiceDelivery)
            .where(
                InvoiceDelivery.invoice_id == invoice.id,
                InvoiceDelivery.status == DeliveryStatus.SENT,
            )
            .order_by(InvoiceDelivery.sent_at)
            .limit(1)
        )
        if earlier is not None:
            return _view(earlier, already_sent=True)
    message = invoice_message(session, invoice, to=to, sender=sender, renderer=renderer)
    status, error = DeliveryStatus.SENT, None
    try:
        mailer.send(message)
    except (OSError, smtplib.SMTPException) as exc:
        status, error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    row = InvoiceDelivery(
        id=new_id("dlv"),
        tenant_id=invoice.tenant_id,
        invoice_id=invoice.id,
        to=to,
        sent_at=clock.now(),
        message_id=message["Message-ID"],
        status=status.value,
        error=error,
    )
    session.add(row)
    session.flush()
    return _view(row)


def invoice_message(
    session: Session,
    invoice: Invoice,
    *,
    to: str,
    sender: str,
    renderer: DocumentRenderer | None = None,
) -> EmailMessage:
    """The branded e-mail of `invoice`: text and HTML parts, and its PDF attached."""
    renderer = renderer or current_renderer()
    document, html = html_of(session, invoice, kind=TemplateKind.INVOICE, renderer=renderer)
    pdf = renderer.pdf(html, document=document)
    template = template_in_force(
        session, tenant_id=invoice.tenant_id, account_id=invoice.account_id, kind=TemplateKind.EMAIL
    )
    parts = renderer.email(document, body=template.body if template else None)
    domain = Address(addr_spec=sender).domain or "localhost"
    message = EmailMessage()
    message["Subject"] = parts.subject
    message["From"] = formataddr((document.brand.name, sender))
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(parts.text)
    message.add_alternative(parts.html, subtype="html")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=pdf_filename(invoice)
    )
    return message
