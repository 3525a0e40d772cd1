"""Invoice documents from the database, on SQLite and PostgreSQL: PDFs, templates, batches."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from billstream.core.clock import FakeClock
from billstream.core.errors import InvalidInputError, NotFoundError
from billstream.documents import service
from billstream.documents.models import DocumentTemplate, TemplateKind
from billstream.tenants.models import Tenant
from tests.factories import make_account, make_tenant, scope_of
from tests.invoice_rows import Line, Tax, insert_invoice

ADDRESS = {"line1": "10 Downing St", "city": "London", "postcode": "SW1A 2AA", "country": "GB"}


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def uk_brand(session: Session, clock: FakeClock) -> tuple[Tenant, Tenant]:
    group = make_tenant(session, clock, slug="northwind", name="Northwind Group", currency="GBP")
    brand = make_tenant(
        session,
        clock,
        parent=group,
        slug="northwind-uk",
        name="Northwind UK",
        locale="en_GB",
        timezone="Europe/London",
        brand_name="Northwind Telecom UK",
        brand_address="1 High Street\nLondon",
        brand_primary_color="#0a5c36",
        brand_footer="Northwind Telecom UK Ltd, registered in England no. 01234567",
    )
    return group, brand


def test_the_pdf_holds_the_number_the_lines_and_the_totals(
    session: Session, clock: FakeClock
) -> None:
    # given an issued invoice of a British customer, with two lines and VAT
    _, brand = uk_brand(session, clock)
    account = make_account(
        session, clock, brand, name="Acme Ltd", email="ap@acme.example", billing_address=ADDRESS
    )
    invoice = insert_invoice(
        session,
        clock,
        account,
        [
            Line("Business Fibre 500", Decimal("1000.00"), unit_price=Decimal("1000.00")),
            Line("Static IP block", Decimal("234.50"), Decimal(7), Decimal("33.50")),
        ],
        taxes=[Tax("VAT", Decimal(20), Decimal("1234.50"), Decimal("246.90"))],
        number="NW-2026-000042",
    )

    # when its PDF is rendered
    pdf = service.render_invoice_pdf(session, scope=scope_of(session, brand), invoice_id=invoice.id)

    # then the text holds the number, the lines, the totals as a British customer reads them
    assert pdf.startswith(b"%PDF")
    text = "\n".join(pdf_pages(pdf))
    for expected in (
        "Invoice NW-2026-000042",
        "Northwind Telecom UK",
        "Acme Ltd",
        "10 Downing St",
        "Business Fibre 500",
        "Static IP block",
        "£1,000.00",
        "£33.50",
        "£234.50",
        "£1,234.50",
        "£246.90",
        "£1,481.40",
        "1 Feb 2026",
        "15 Feb 2026",
        "1 Jan 2026 \u2013 31 Jan 2026",
        "registered in England",
        "Page 1 of 1",
    ):
        assert expected in text, expected


def test_a_long_invoice_runs_over_pages_numbered_x_of_y(session: Session, clock: FakeClock) -> None:
    # given an invoice of 200 lines
    tenant = make_tenant(session, clock, currency="USD", locale="en_US")
    account = make_account(session, clock, tenant, name="Big Co", email="ap@big.example")
    lines = [Line(f"Extension {i:03d}", Decimal("12.50")) for i in range(200)]
    invoice = insert_invoice(session, clock, account, lines)

    # when rendered
    pages = pdf_pages(
        service.render_invoice_pdf(session, scope=scope_of(session, tenant), invoice_id=invoice.id)
    )

    # then it runs over several pages, each "Page X of N", the table header repeated
    n = len(pages)
    assert n > 2
    for x, text in enumerate(pages, start=1):
        assert f"Page {x} of {n}" in text
        assert "Description" in text or x == n
    text = "\n".join(pages)
    assert "Extension 000" in pages[0]
    assert "Extension 199" in text
    assert "$2,500.00" in text


def test_a_hierarchy_invoice_has_a_section_per_sub_account(
    session: Session, clock: FakeClock
) -> None:
    # given Org ABC paying for Support and its Tier 1 department
    tenant = make_tenant(session, clock, currency="USD")
    abc = make_account(session, clock, tenant, name="Org ABC", email="ap@abc.example")
    support = make_account(
        session, clock, tenant, name="Support", parent_id=abc.id, billing_mode="billed_to_parent"
    )
    tier1 = make_account(
        session, clock, tenant, name="Tier 1", parent_id=support.id, billing_mode="billed_to_parent"
    )
    lines = [
        Line("Tier 1 seats", Decimal("30.00"), account=tier1),
        Line("Head office plan", Decimal("100.00")),
        Line("Support desk plan", Decimal("50.00"), account=support),
    ]
    invoice = insert_invoice(session, clock, abc, lines)

    # when its document is built
    doc = service.invoice_document(session, scope=scope_of(session, tenant), invoice_id=invoice.id)

    # then one section per account, in hierarchy order, each with its subtotal
    assert [(s.account_name, s.depth, s.subtotal) for s in doc.sections] == [
        ("Org ABC", 0, "$100.00"),
        ("Support", 1, "$50.00"),
        ("Tier 1", 2, "$30.00"),
    ]


def test_the_document_is_loaded_in_the_same_few_queries_whatever_its_size(
    session: Session, clock: FakeClock
) -> None:
    # given a one-line invoice and a 60-line invoice spread over three sub-accounts
    tenant = make_tenant(session, clock, currency="USD")
    payer = make_account(session, clock, tenant, name="Payer")
    subs = [
        make_account(session, clock, tenant, name=f"Sub {i}", parent_id=payer.id,
                     billing_mode="billed_to_parent")
        for i in range(3)
    ]  # fmt: skip
    small = insert_invoice(session, clock, payer, [Line("One", Decimal(1))], number="S-1")
    big_lines = [Line(f"L{i}", Decimal(1), account=subs[i % 3]) for i in range(60)]
    big = insert_invoice(session, clock, payer, big_lines, number="S-2")
    scope = scope_of(session, tenant)

    # when each document is built, counting statements
    counts = []
    for invoice in (small, big):
        statements: list[str] = []

        def count(*args: Any, seen: list[str] = statements) -> None:
            seen.append(str(args[2]))

        session.expire_all()
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            service.invoice_document(session, scope=scope, invoice_id=invoice.id)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))

    # then both take the same handful of queries
    assert counts[0] == counts[1] <= 10


def test_a_customer_template_overrides_its_brand_which_overrides_the_group(
    session: Session, clock: FakeClock
) -> None:
    # given templates on the group, on the brand, and on one customer of the brand
    group, brand = uk_brand(session, clock)
    vip = make_account(session, clock, brand, name="VIP", email="vip@example.com")
    plain = make_account(session, clock, brand, name="Plain", email="plain@example.com")
    group_scope = scope_of(session, group)
    extends = '{% extends "invoice.html" %}{% block heading %}'
    service.save_template(session, clock, scope=group_scope, kind="invoice",
                          body=extends + "Group {{ doc.number }}{% endblock %}")  # fmt: skip
    service.save_template(session, clock, scope=group_scope, kind="invoice", tenant_id=brand.id,
                          body=extends + "Brand {{ doc.number }}{% endblock %}")  # fmt: skip
    service.save_template(session, clock, scope=group_scope, kind="invoice", account_id=vip.id,
                          body=extends + "VIP {{ doc.number }}{% endblock %}")  # fmt: skip
    other_brand = make_tenant(session, clock, parent=group, slug="northwind-ie", name="NW IE")
    irish = make_account(session, clock, other_brand, name="Irish", email="ie@example.com")
    line = [Line("Plan", Decimal("10.00"))]
    vip_invoice = insert_invoice(session, clock, vip, line, number="NW-1")
    plain_invoice = insert_invoice(session, clock, plain, line, number="NW-2")
    irish_invoice = insert_invoice(session, clock, irish, line, number="IE-1")
    group_scope = scope_of(session, group)  # now with the Irish brand

    # when each invoice is rendered
    def heading(invoice_id: str) -> str:
        html = service.render_invoice_html(session, scope=group_scope, invoice_id=invoice_id)
        return html.split("<h1>", 1)[1].split("</h1>", 1)[0].strip()

    # then the customer's own wins, else its brand's, else the group's
    assert heading(vip_invoice.id) == "VIP NW-1"
    assert heading(plain_invoice.id) == "Brand NW-2"
    assert heading(irish_invoice.id) == "Group IE-1"
    # and saving again replaces, never duplicates
    service.save_template(session, clock, scope=group_scope, kind="invoice", account_id=vip.id,
                          body=extends + "VIP2 {{ doc.number }}{% endblock %}")  # fmt: skip
    assert heading(vip_invoice.id) == "VIP2 NW-1"
    assert session.scalar(select(func.count()).select_from(DocumentTemplate)) == 3


def test_a_template_with_a_syntax_error_is_refused_and_nothing_is_stored(
    session: Session, clock: FakeClock
) -> None:
    # given a tenant
    tenant = make_tenant(session, clock)
    body = "<h1>{{ doc.number }}</h1>\n{% if doc.is_paid %}\n<p>Paid</p>\n"

    # when it saves a template whose {% if %} is never closed
    with pytest.raises(InvalidInputError) as refused:
        service.save_template(
            session, clock, scope=scope_of(session, tenant), kind="invoice", body=body
        )

    # then it is refused naming the body and the line, and nothing is stored
    assert (refused.value.field, refused.value.code) == ("body", "template_invalid")
    assert refused.value.detail.startswith("line 3:")  # where the template ends, still open
    assert "endif" in refused.value.detail
    assert session.scalar(select(func.count()).select_from(DocumentTemplate)) == 0


def test_an_unknown_kind_or_another_tenants_account_is_refused(
    session: Session, clock: FakeClock
) -> None:
    tenant, other = make_tenant(session, clock), make_tenant(session, clock)
    stranger = make_account(session, clock, other, name="Stranger")
    scope = scope_of(session, tenant)
    with pytest.raises(InvalidInputError) as refused:
        service.save_template(session, clock, scope=scope, kind="poster", body="x")
    assert refused.value.field == "kind"
    with pytest.raises(NotFoundError) as missing:
        service.save_template(
            session, clock, scope=scope, kind="invoice", body="x", account_id=stranger.id
        )
    assert missing.value.field == "account_id"


def test_a_receipt_is_for_a_paid_invoice(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, currency="USD")
    account = make_account(session, clock, tenant, name="Payer")
    line = [Line("Plan", Decimal("40.00"))]
    paid = insert_invoice(session, clock, account, line, number="P-1", status="paid",
                          amount_paid=Decimal("40.00"))  # fmt: skip
    unpaid = insert_invoice(session, clock, account, line, number="P-2")
    scope = scope_of(session, tenant)

    html = service.render_invoice_html(session, scope=scope, invoice_id=paid.id, kind="receipt")
    assert "Receipt for invoice P-1" in html
    assert "PAID" in html
    with pytest.raises(Exception, match="a receipt is for a paid invoice"):
        service.render_invoice_html(session, scope=scope, invoice_id=unpaid.id, kind="receipt")


def test_a_credit_note_names_the_invoice_it_corrects(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, currency="USD")
    account = make_account(session, clock, tenant, name="Payer")
    original = insert_invoice(session, clock, account, [Line("Plan", Decimal("40.00"))],
                              number="C-1")  # fmt: skip
    credit = insert_invoice(session, clock, account, [Line("Refund", Decimal("-10.00"),
                            kind="correction")], number="C-2", kind="credit_note",
                            corrects=original)  # fmt: skip
    text = "\n".join(
        pdf_pages(
            service.render_invoice_pdf(
                session, scope=scope_of(session, tenant), invoice_id=credit.id
            )
        )
    )
    assert "Credit note C-2" in text
    assert "corrects invoice C-1" in text
    assert "-$10.00" in text


def test_a_batch_writes_one_pdf_per_invoice_under_the_tenant_slug(
    session: Session, clock: FakeClock, tmp_path: Path
) -> None:
    # given two issued invoices of a brand
    group, brand = uk_brand(session, clock)
    account = make_account(session, clock, brand, name="Acme", email="ap@acme.example")
    invoices = [
        insert_invoice(session, clock, account, [Line("Plan", Decimal("10.00"))], number=n)
        for n in ("NW-2026-000001", "NW-2026-000002")
    ]

    # when written as a batch by the group's operator
    paths = service.write_invoice_pdfs(
        session,
        scope=scope_of(session, group),
        invoice_ids=[i.id for i in invoices],
        directory=tmp_path,
    )

    # then one PDF each at <directory>/<slug>/<number>.pdf
    assert paths == [
        tmp_path / "northwind-uk" / "NW-2026-000001.pdf",
        tmp_path / "northwind-uk" / "NW-2026-000002.pdf",
    ]
    assert all(p.read_bytes().startswith(b"%PDF") for p in paths)
    assert "NW-2026-000002" in pdf_pages(paths[1].read_bytes())[0]


def test_another_tenants_invoice_is_not_found(session: Session, clock: FakeClock) -> None:
    tenant, other = make_tenant(session, clock), make_tenant(session, clock)
    account = make_account(session, clock, other, name="Theirs")
    invoice = insert_invoice(session, clock, account, [Line("Plan", Decimal(1))])
    with pytest.raises(NotFoundError) as missing:
        service.render_invoice_pdf(session, scope=scope_of(session, tenant), invoice_id=invoice.id)
    assert missing.value.field == "invoice_id"
    assert TemplateKind.INVOICE == "invoice"
