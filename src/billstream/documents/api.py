"""Invoice documents over REST: PDF and HTML downloads, e-mail delivery, templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from billstream.api.context import Context, Paging
from billstream.api.pages import PageOut
from billstream.api.problems import problem_response
from billstream.api.routing import TransactionalRoute
from billstream.core.errors import ConflictError
from billstream.documents import service
from billstream.documents.errors import DocumentErrorCode
from billstream.documents.mailer import Mailer, smtp_mailer
from billstream.documents.models import TemplateKind
from billstream.documents.schemas import (
    DeliveryOut,
    DocumentChoice,
    SendRequest,
    TemplateOut,
    TemplatePut,
)

invoices = APIRouter(prefix="/invoices", tags=["documents"], route_class=TransactionalRoute)
templates = APIRouter(
    prefix="/document-templates", tags=["documents"], route_class=TransactionalRoute
)


@dataclass(frozen=True)
class MailTransport:
    """How invoice e-mails leave: the mailer and the sender address."""

    mailer: Mailer
    sender: str


def mail_transport(request: Request) -> MailTransport | None:
    """The SMTP mailer of the settings (BILLSTREAM_SMTP_*); tests override this dependency."""
    settings: Any = request.app.state.runtime.settings
    mailer = smtp_mailer(settings)
    return None if mailer is None else MailTransport(mailer, settings.smtp_from)


Transport = Annotated[MailTransport | None, Depends(mail_transport)]
RECEIPT_OF_UNPAID = "A receipt of an invoice not paid in full"


@invoices.get(
    "/{invoice_id:path}/pdf",
    summary="Download an invoice (or its receipt) as PDF",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}},
        409: problem_response(RECEIPT_OF_UNPAID),
    },
)
def invoice_pdf(
    ctx: Context, invoice_id: str, document: DocumentChoice = DocumentChoice.INVOICE
) -> Response:
    invoice = service.get_invoice(ctx.session, scope=ctx.scope, invoice_id=invoice_id)
    pdf = service.pdf_of(ctx.session, invoice, kind=TemplateKind(document.value))
    name = service.pdf_filename(invoice)
    if document == DocumentChoice.RECEIPT:
        name = "receipt-" + name
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@invoices.get(
    "/{invoice_id:path}/html",
    summary="An invoice (or its receipt) as HTML",
    response_class=HTMLResponse,
    responses={409: problem_response(RECEIPT_OF_UNPAID)},
)
def invoice_html(
    ctx: Context, invoice_id: str, document: DocumentChoice = DocumentChoice.INVOICE
) -> HTMLResponse:
    html = service.render_invoice_html(
        ctx.session, scope=ctx.scope, invoice_id=invoice_id, kind=document.value
    )
    return HTMLResponse(html)


@invoices.post("/{invoice_id:path}/send", summary="E-mail an issued invoice with its PDF attached")
def send(
    ctx: Context, invoice_id: str, transport: Transport, body: SendRequest | None = None
) -> DeliveryOut:
    service.get_invoice(ctx.session, scope=ctx.scope, invoice_id=invoice_id)
    if transport is None:
        raise ConflictError(
            "e-mail delivery is not configured: set BILLSTREAM_SMTP_HOST",
            code=DocumentErrorCode.MAIL_NOT_CONFIGURED,
            field="BILLSTREAM_SMTP_HOST",
        )
    delivery = service.send_invoice(
        ctx.session,
        ctx.clock,
        scope=ctx.scope,
        invoice_id=invoice_id,
        mailer=transport.mailer,
        sender=transport.sender,
        force=body.force if body else False,
    )
    return DeliveryOut.model_validate(delivery)


@invoices.get("/{invoice_id:path}/deliveries", summary="Every e-mail of an invoice, oldest first")
def list_deliveries(ctx: Context, invoice_id: str) -> PageOut[DeliveryOut]:
    found = service.deliveries(ctx.session, scope=ctx.scope, invoice_id=invoice_id)
    return PageOut(data=[DeliveryOut.model_validate(d) for d in found], next_cursor=None)


@templates.put("/{kind}", summary="Set a tenant's or a customer's template of a kind")
def put_template(ctx: Context, kind: TemplateKind, body: TemplatePut) -> TemplateOut:
    row = service.save_template(
        ctx.session,
        ctx.clock,
        scope=ctx.scope,
        kind=kind,
        body=body.body,
        tenant_id=body.tenant_id,
        account_id=body.account_id,
    )
    return TemplateOut.model_validate(row)


@templates.get("", summary="The templates of the caller's tenants and their customers")
def list_templates(
    ctx: Context, page: Paging, kind: TemplateKind | None = None
) -> PageOut[TemplateOut]:
    result = service.list_templates(
        ctx.session, scope=ctx.scope, kind=kind, cursor=page.cursor, limit=page.limit
    )
    return PageOut(
        data=[TemplateOut.model_validate(t) for t in result.items], next_cursor=result.next_cursor
    )
