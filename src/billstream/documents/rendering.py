"""Templates to HTML (Jinja2, sandboxed) and HTML to PDF (WeasyPrint), with nothing fetched.

A `DocumentRenderer` holds one sandboxed Jinja2 environment over the shipped templates, one
WeasyPrint font configuration and one image cache; a batch reuses it, so fonts are loaded
and a logo decoded once. Every template, shipped or a tenant's, runs in the sandbox, and a
tenant's template may `{% extends "invoice.html" %}` and override its blocks.

Resources are fetched only from ``file:`` and ``data:`` URIs: a logo at an http(s) address is
not drawn (rendering never reaches the network), and a local path is embedded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from billstream.core.errors import InvalidInputError
from billstream.documents.errors import DocumentErrorCode
from billstream.documents.kinds import TemplateKind
from billstream.documents.view import Brand, InvoiceDocument, sample_document

SHIPPED = {
    TemplateKind.INVOICE: "invoice.html",
    TemplateKind.RECEIPT: "receipt.html",
    TemplateKind.EMAIL: "email.html",
}
CREDIT_NOTE_TEMPLATE = "credit_note.html"
EMAIL_BLOCKS = ("subject", "text", "html")
LOCAL_SCHEMES = ("file", "data")
COMPILED_CACHE = 256  # tenant templates kept compiled, by the hash of their body


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def logo_source(logo_url: str | None) -> str | None:
    """What the document's ``<img src>`` gets: a ``data:`` URI as it is, a local file as a
    ``file:`` URI, and nothing for an http(s) address or a file that does not exist."""
    if not logo_url:
        return None
    if logo_url.startswith("data:"):
        return logo_url
    if logo_url.startswith("file:"):
        return logo_url
    if "://" in logo_url:
        return None
    path = Path(logo_url).expanduser()
    return path.resolve().as_uri() if path.is_file() else None


def _template_line(tb: TracebackType | None) -> int | None:
    """The line of the template (not of Jinja2) where a rendering error happened."""
    line = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == "<template>" or filename.endswith(".html"):  # Jinja2 maps these lines
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _refused(exc: Exception, *, code: DocumentErrorCode, field: str) -> InvalidInputError:
    if isinstance(exc, TemplateSyntaxError):
        where = f"line {exc.lineno}"
        message = exc.message or str(exc)
    else:
        line = _template_line(exc.__traceback__)
        where = f"line {line}" if line is not None else "template"
        message = str(exc)
    return InvalidInputError(f"{where}: {message}", code=code, field=field)


class DocumentRenderer:
    """Renders documents to HTML, PDF and e-mail parts; build one and reuse it for a batch."""

    def __init__(self) -> None:
        self.env = SandboxedEnvironment(
            loader=PackageLoader("billstream.documents", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.fonts = FontConfiguration()
        self.fetcher = URLFetcher(allowed_protocols=LOCAL_SCHEMES, timeout=5)
        self.images: dict[str, Any] = {}
        self._compiled: dict[str, Template] = {}

    # --- templates -------------------------------------------------------------------------

    def compile(self, body: str, *, field: str = "body") -> Template:
        """A tenant's template, compiled in the sandbox; a syntax error names its line."""
        key = hashlib.sha256(body.encode()).hexdigest()
        found = self._compiled.get(key)
        if found is not None:
            return found
        try:
            template = self.env.from_string(body)
        except TemplateSyntaxError as exc:
            raise _refused(exc, code=DocumentErrorCode.TEMPLATE_INVALID, field=field) from None
        if len(self._compiled) >= COMPILED_CACHE:
            self._compiled.clear()
        self._compiled[key] = template
        return template

    def template(self, kind: TemplateKind, body: str | None, *, document_kind: str) -> Template:
        if body is not None:
            return self.compile(body, field="template")
        if kind == TemplateKind.INVOICE and document_kind == "credit_note":
            return self.env.get_template(CREDIT_NOTE_TEMPLATE)
        return self.env.get_template(SHIPPED[kind])

    def check(self, kind: TemplateKind, body: str, *, brand: Brand) -> None:
        """Refuse a template that does not compile, or fails on a sample invoice, naming
        the line; an e-mail template must define a subject, text or html block."""
        template = self.compile(body)
        if kind == TemplateKind.EMAIL and not set(EMAIL_BLOCKS) & set(template.blocks):
            raise InvalidInputError(
                "an email template defines {% block subject %}, {% block text %} and/or "
                "{% block html %}",
                code=DocumentErrorCode.TEMPLATE_INVALID,
                field="body",
            )
        sample = sample_document(brand)
        try:
            if kind == TemplateKind.EMAIL:
                self.email(sample, body=body)
            else:
                self.html(sample, kind=kind, body=body)
        except InvalidInputError as exc:
            raise InvalidInputError(
                exc.detail, code=DocumentErrorCode.TEMPLATE_INVALID, field="body"
            ) from None

    @staticmethod
    def _context(document: InvoiceDocument) -> dict[str, Any]:
        return {"doc": document, "brand": document.brand}

    # --- rendering -------------------------------------------------------------------------

    def html(
        self,
        document: InvoiceDocument,
        *,
        kind: TemplateKind = TemplateKind.INVOICE,
        body: str | None = None,
    ) -> str:
        """The document as HTML, through `body` (a tenant's template) or the shipped one."""
        template = self.template(kind, body, document_kind=document.kind)
        try:
            return template.render(self._context(document))
        except TemplateError as exc:
            raise _refused(exc, code=DocumentErrorCode.TEMPLATE_FAILED, field="template") from None

    def pdf(self, html: str, *, document: InvoiceDocument | None = None) -> bytes:
        """HTML to PDF with this renderer's fonts, image cache and local-only fetcher."""
        rendered = HTML(string=html, url_fetcher=self.fetcher).render(
            font_config=self.fonts, cache=self.images
        )
        if document is not None:
            rendered.metadata.title = f"{document.title} {document.number}"
            rendered.metadata.authors = [document.brand.name]
        return bytes(rendered.write_pdf())

    def email(self, document: InvoiceDocument, *, body: str | None = None) -> RenderedEmail:
        """The e-mail's subject, text and html, from `body`'s blocks (missing ones shipped)."""
        own = self.template(TemplateKind.EMAIL, body, document_kind=document.kind)
        shipped = self.env.get_template(SHIPPED[TemplateKind.EMAIL])
        parts = {}
        for name in EMAIL_BLOCKS:
            template = own if name in own.blocks else shipped
            try:
                parts[name] = self._block(template, name, self._context(document))
            except TemplateError as exc:
                raise _refused(
                    exc, code=DocumentErrorCode.TEMPLATE_FAILED, field="template"
                ) from None
        subject = " ".join(Markup(parts["subject"]).unescape().split())
        text = Markup(parts["text"]).unescape().strip() + "\n"
        return RenderedEmail(subject=subject, text=text, html=parts["html"].strip())

    @staticmethod
    def _block(template: Template, name: str, context: Mapping[str, Any]) -> str:
        render = template.blocks[name]
        try:
            return "".join(render(template.new_context(dict(context))))
        except Exception:
            # as Template.render does: the traceback then has the template's lines, not
            # those of the Python Jinja2 compiled it to (which the refusal would name)
            template.environment.handle_exception()
