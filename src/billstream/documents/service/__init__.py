"""Document use cases: invoice documents, rendering, templates and e-mail delivery."""

from billstream.billing.service import get_invoice
from billstream.documents.service.delivery import (
    Delivery,
    deliveries,
    invoice_message,
    send_invoice,
)
from billstream.documents.service.loading import (
    document_of,
    find_invoice,
    invoice_document,
)
from billstream.documents.service.output import (
    html_of,
    pdf_filename,
    pdf_of,
    render_invoice_html,
    render_invoice_pdf,
    write_invoice_pdfs,
)
from billstream.documents.service.renderers import current_renderer
from billstream.documents.service.templates import (
    list_templates,
    save_template,
    template_in_force,
    template_kind,
)

__all__ = [
    "Delivery",
    "current_renderer",
    "deliveries",
    "document_of",
    "find_invoice",
    "get_invoice",
    "html_of",
    "invoice_document",
    "invoice_message",
    "list_templates",
    "pdf_filename",
    "pdf_of",
    "render_invoice_html",
    "render_invoice_pdf",
    "save_template",
    "send_invoice",
    "template_in_force",
    "template_kind",
    "write_invoice_pdfs",
]
