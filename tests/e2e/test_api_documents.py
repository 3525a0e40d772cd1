"""Invoice documents over HTTP: download, HTML, e-mail, templates, and tenant isolation."""

from __future__ import annotations

from decimal import Decimal

from tests.e2e.conftest import Api, Caller, assert_problem
from tests.factories import make_account
from tests.invoice_rows import Line, insert_invoice

from billstream.documents.api import MailTransport, mail_transport
from billstream.documents.mailer import MemoryMailer
from billstream.tenants.models import Tenant


def issued_invoice(
    api: Api, caller: Caller, number: str, *, email: str | None = "ap@a.example"
) -> str:
    tenant = api.session.get(Tenant, caller.tenant_id)
    assert tenant is not None
    account = make_account(api.session, api.clock, tenant, name="Acme Ltd", email=email)
    invoice = insert_invoice(
        api.session, api.clock, account, [Line("Business Fibre", Decimal("80.00"))],
        number=number,
    )  # fmt: skip
    api.session.commit()
    return invoice.id


def test_an_invoice_downloads_as_a_pdf_named_by_its_number(api: Api) -> None:
    # given an issued invoice of tenant A
    a = api.tenant(currency="GBP", locale="en_GB")
    invoice_id = issued_invoice(api, a, "A-2026-000001")

    # when A downloads it
    response = api.get(a, f"/v1/invoices/{invoice_id}/pdf")

    # then a PDF named by its number
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="A-2026-000001.pdf"'
    assert response.content.startswith(b"%PDF")
    html = api.get(a, f"/v1/invoices/{invoice_id}/html")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "A-2026-000001" in html.text
    assert "£80.00" in html.text


def test_another_tenants_invoice_is_not_found(api: Api) -> None:
    a, b = api.tenant(), api.tenant()
    invoice_id = issued_invoice(api, a, "A-1")
    for path in ("pdf", "html"):
        response = api.get(b, f"/v1/invoices/{invoice_id}/{path}")
        assert_problem(response, status=404, code="not_found", field="invoice_id")
    sent = api.post(b, f"/v1/invoices/{invoice_id}/send", {})
    assert_problem(sent, status=404, code="not_found", field="invoice_id")


def test_an_invoice_is_emailed_once_and_recorded(api: Api) -> None:
    # given an issued invoice and a mailer
    a = api.tenant(currency="USD")
    invoice_id = issued_invoice(api, a, "A-7")
    mailer = MemoryMailer()
    api.client.app.dependency_overrides[mail_transport] = lambda: MailTransport(  # type: ignore[attr-defined]
        mailer, "billing@a.example"
    )

    # when sent twice
    first = api.post(a, f"/v1/invoices/{invoice_id}/send", {})
    second = api.post(a, f"/v1/invoices/{invoice_id}/send", {})

    # then one e-mail left, and both answers show the delivery
    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["to"]) == ("sent", "ap@a.example")
    assert second.json()["already_sent"] is True
    assert len(mailer.sent) == 1
    assert "A-7" in mailer.sent[0]["Subject"]
    listed = api.ok(a, f"/v1/invoices/{invoice_id}/deliveries")
    assert [d["id"] for d in listed["data"]] == [first.json()["id"]]


def test_sending_without_smtp_configured_is_refused_naming_the_setting(api: Api) -> None:
    a = api.tenant()
    invoice_id = issued_invoice(api, a, "A-8")
    response = api.post(a, f"/v1/invoices/{invoice_id}/send", {})
    assert_problem(response, status=409, code="mail_not_configured", field="BILLSTREAM_SMTP_HOST")


def test_an_account_without_email_is_refused(api: Api) -> None:
    a = api.tenant()
    invoice_id = issued_invoice(api, a, "A-9", email=None)
    api.client.app.dependency_overrides[mail_transport] = lambda: MailTransport(  # type: ignore[attr-defined]
        MemoryMailer(), "billing@a.example"
    )
    response = api.post(a, f"/v1/invoices/{invoice_id}/send", {})
    assert_problem(response, status=422, code="no_email", field="email")


def test_templates_are_saved_checked_and_listed(api: Api) -> None:
    # given a tenant with an invoice
    a = api.tenant(currency="USD")
    invoice_id = issued_invoice(api, a, "A-10")

    # when it sets its invoice template
    body = '{% extends "invoice.html" %}{% block heading %}Statement {{ doc.number }}{% endblock %}'
    saved = api.call(a, "PUT", "/v1/document-templates/invoice", json={"body": body})

    # then it is stored and used
    assert saved.status_code == 200, saved.text
    assert (saved.json()["kind"], saved.json()["account_id"]) == ("invoice", None)
    assert "Statement A-10" in api.get(a, f"/v1/invoices/{invoice_id}/html").text
    listed = api.ok(a, "/v1/document-templates")
    assert [t["id"] for t in listed["data"]] == [saved.json()["id"]]

    # and a broken template is refused with its line
    broken = api.call(
        a, "PUT", "/v1/document-templates/invoice", json={"body": "ok\n{{ doc.number "}
    )
    problem = assert_problem(broken, status=422, code="template_invalid", field="body")
    assert problem["detail"].startswith("line 2:")
