"""`billstream invoice render|send`: invoice PDFs to files, invoices by e-mail."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from billstream.cli.common import console, fails_cleanly, target_tenant, unit_of_work
from billstream.core.errors import ConflictError
from billstream.documents.errors import DocumentErrorCode

if TYPE_CHECKING:  # the commands import what they use: `--help` stays light
    from sqlalchemy.orm import Session

    from billstream.tenants.scope import TenantScope

commands = typer.Typer(help="Invoice documents: PDFs and e-mail.", no_args_is_help=True)
TenantOption = Annotated[
    str | None,
    typer.Option(help="The invoice's tenant (slug or id); needed when a number is not unique."),
]


def _scope(session: Session, tenant: str | None) -> TenantScope:
    """The tenant's subtree, or every tenant when none is named (an operator's command)."""
    from billstream.tenants.service import every_tenant_scope

    return (
        target_tenant(session, tenant).scope if tenant is not None else every_tenant_scope(session)
    )


@commands.command("render")
@fails_cleanly
def render(
    invoice: Annotated[str, typer.Argument(help="The invoice's number or id.")],
    out: Annotated[Path, typer.Option(help="Directory to write the file to.")] = Path("."),
    tenant: TenantOption = None,
    receipt: Annotated[bool, typer.Option(help="The receipt of a paid invoice.")] = False,
    html: Annotated[bool, typer.Option(help="Write HTML instead of PDF.")] = False,
) -> None:
    """Write an invoice's PDF (or HTML, or its receipt) to OUT/<number>.pdf."""
    from billstream.documents import service
    from billstream.documents.models import TemplateKind

    kind = TemplateKind.RECEIPT if receipt else TemplateKind.INVOICE
    renderer = service.current_renderer()
    with unit_of_work() as (_runtime, session):
        found = service.find_invoice(session, scope=_scope(session, tenant), ref=invoice)
        name = ("receipt-" if receipt else "") + service.pdf_filename(found)
        out.mkdir(parents=True, exist_ok=True)
        if html:
            _, text = service.html_of(session, found, kind=kind, renderer=renderer)
            target = out / (name.removesuffix(".pdf") + ".html")
            target.write_text(text, encoding="utf-8")
        else:
            target = out / name
            target.write_bytes(service.pdf_of(session, found, kind=kind, renderer=renderer))
    console().print(str(target), markup=False, highlight=False)


@commands.command("send")
@fails_cleanly
def send(
    invoice: Annotated[str, typer.Argument(help="The invoice's number or id.")],
    tenant: TenantOption = None,
    force: Annotated[bool, typer.Option(help="Send again if it was sent before.")] = False,
) -> None:
    """E-mail an issued invoice, its PDF attached, through BILLSTREAM_SMTP_*."""
    from billstream.documents import service
    from billstream.documents.mailer import smtp_mailer

    with unit_of_work() as (runtime, session):
        mailer = smtp_mailer(runtime.settings)
        if mailer is None:
            raise ConflictError(
                "e-mail delivery is not configured",
                code=DocumentErrorCode.MAIL_NOT_CONFIGURED,
                field="BILLSTREAM_SMTP_HOST",
            )
        scope = _scope(session, tenant)
        found = service.find_invoice(session, scope=scope, ref=invoice)
        delivery = service.send_invoice(
            session,
            runtime.clock,
            scope=scope,
            invoice_id=found.id,
            mailer=mailer,
            sender=runtime.settings.smtp_from,
            force=force,
        )
    label = found.number or found.id
    if delivery.already_sent:
        line = f"{label} was sent to {delivery.to} at {delivery.sent_at:%Y-%m-%d %H:%M} UTC"
        console().print(line + "; --force sends it again", markup=False, highlight=False)
    elif delivery.status == "failed":
        console().print(f"{label}: not sent: {delivery.error}", markup=False, style="red")
        raise typer.Exit(1)
    else:
        console().print(f"{label} sent to {delivery.to}", markup=False, highlight=False)
