"""Templates to HTML, e-mail and PDF, without a database: the shipped templates, the sandbox,
refusals that name the line, and resources that never come from the network."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from billstream.core.errors import InvalidInputError
from billstream.documents.models import TemplateKind
from billstream.documents.rendering import DocumentRenderer, logo_source
from billstream.documents.view import Brand, sample_document

BRAND = Brand("Northwind", ("1 High St", "London"), None, "#123456", "#abcdef", "Registered: 42")
# A 1x1 transparent PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def renderer() -> DocumentRenderer:
    return DocumentRenderer()


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_shipped_invoice_shows_the_brand_the_lines_and_the_totals(
    renderer: DocumentRenderer,
) -> None:
    # given the sample invoice in en_GB
    doc = sample_document(BRAND, locale="en_GB", currency="GBP")

    # when rendered to PDF
    text = pdf_text(renderer.pdf(renderer.html(doc), document=doc))

    # then its number, lines, totals, brand and footer are there, with page X of Y
    for expected in (
        "Invoice SAMPLE-0001",
        "Northwind",
        "Monthly plan",
        "Calls to mobiles",
        "£20.00",
        "£25.00",
        "£30.00",
        "Registered: 42",
        "Page 1 of 1",
        "Usage summary",
    ):
        assert expected in text


def test_a_template_with_a_syntax_error_is_refused_naming_its_line(
    renderer: DocumentRenderer,
) -> None:
    body = "<h1>{{ doc.number }}</h1>\n<p>\n{% for x in doc.sections %}\n</p>\n"
    with pytest.raises(InvalidInputError) as refused:
        renderer.check(TemplateKind.INVOICE, body, brand=BRAND)
    assert refused.value.field == "body"
    assert refused.value.code == "template_invalid"
    assert refused.value.detail.startswith("line 4:")


def test_a_template_naming_an_unknown_variable_is_refused_naming_its_line(
    renderer: DocumentRenderer,
) -> None:
    body = "<h1>{{ doc.number }}</h1>\n<p>{{ doc.no_such_thing }}</p>\n"
    with pytest.raises(InvalidInputError) as refused:
        renderer.check(TemplateKind.INVOICE, body, brand=BRAND)
    assert refused.value.detail.startswith("line 2:")
    assert "no_such_thing" in refused.value.detail


def test_the_sandbox_refuses_reaching_into_python(renderer: DocumentRenderer) -> None:
    body = "{{ doc.__class__.__init__.__globals__ }}"
    with pytest.raises(InvalidInputError) as refused:
        renderer.check(TemplateKind.INVOICE, body, brand=BRAND)
    assert refused.value.code == "template_invalid"


def test_a_tenant_template_may_extend_the_shipped_one(renderer: DocumentRenderer) -> None:
    body = '{% extends "invoice.html" %}{% block heading %}Bill {{ doc.number }}{% endblock %}'
    renderer.check(TemplateKind.INVOICE, body, brand=BRAND)
    html = renderer.html(sample_document(BRAND), body=body)
    assert "Bill SAMPLE-0001" in html
    assert "Monthly plan" in html


def test_the_email_has_a_subject_a_text_and_an_html_part(renderer: DocumentRenderer) -> None:
    doc = sample_document(Brand("AT&T Lite", (), None, "#000000", "#ffffff", None))
    email = renderer.email(doc)
    assert email.subject == "AT&T Lite: invoice SAMPLE-0001"
    assert "Amount due: $30.00" in email.text
    assert "AT&amp;T Lite" in email.html


def test_an_email_template_overrides_only_the_blocks_it_defines(
    renderer: DocumentRenderer,
) -> None:
    body = "{% block subject %}Your bill {{ doc.number }}{% endblock %}"
    renderer.check(TemplateKind.EMAIL, body, brand=BRAND)
    email = renderer.email(sample_document(BRAND), body=body)
    assert email.subject == "Your bill SAMPLE-0001"
    assert "please find attached" in email.text
    with pytest.raises(InvalidInputError, match="block subject"):
        renderer.check(TemplateKind.EMAIL, "Hello {{ doc.number }}", brand=BRAND)


def test_an_email_template_that_fails_names_its_own_line(renderer: DocumentRenderer) -> None:
    # given an e-mail template whose third line names a field the document does not have
    body = (
        "{% block subject %}Bill {{ doc.number }}{% endblock %}\n"
        "{% block text %}Hello{% endblock %}\n"
        "{% block html %}<p>{{ doc.totals.nope }}</p>{% endblock %}\n"
    )

    # when it is checked, then the refusal names line 3 of the template
    with pytest.raises(InvalidInputError) as refused:
        renderer.check(TemplateKind.EMAIL, body, brand=BRAND)
    assert refused.value.detail.startswith("line 3: ")
    assert "'nope'" in refused.value.detail


def test_a_logo_file_or_data_uri_is_embedded_and_a_web_address_is_not_fetched(
    renderer: DocumentRenderer, tmp_path: Path
) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(PIXEL)
    data_uri = "data:image/png;base64," + base64.b64encode(PIXEL).decode()
    assert logo_source(str(logo)) == logo.resolve().as_uri()
    assert logo_source(data_uri) == data_uri
    assert logo_source("https://example.com/logo.png") is None
    assert logo_source(str(tmp_path / "missing.png")) is None
    # and the PDF with the file's logo draws it
    branded = Brand("Northwind", (), logo.resolve().as_uri(), "#123456", "#abcdef", None)
    doc = sample_document(branded)
    pdf = renderer.pdf(renderer.html(doc), document=doc)
    assert pdf.startswith(b"%PDF")
    assert b"/Image" in pdf or b"/XObject" in pdf


def test_the_fetcher_refuses_the_network(renderer: DocumentRenderer) -> None:
    with pytest.raises(ValueError, match="disallowed protocol"):
        renderer.fetcher.fetch("http://127.0.0.1:9/logo.png")
