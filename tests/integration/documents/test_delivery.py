"""Invoices by e-mail: a real SMTP conversation with a local server, and the delivery rules."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.documents import service
from billstream.documents.mailer import MemoryMailer, SmtpMailer
from billstream.documents.models import InvoiceDelivery
from billstream.tenants.models import Tenant
from tests.factories import make_account, make_tenant, scope_of
from tests.invoice_rows import Line, insert_invoice


class Inbox(Message):
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        super().__init__(message_class=EmailMessage)
        self.received: list[EmailMessage] = []

    def handle_message(self, message: email.message.Message) -> None:
        assert isinstance(message, EmailMessage)
        self.received.append(message)

    def prepare_message(self, session, envelope):  # type: ignore[no-untyped-def]
        # Parse with the modern policy so attachments come back as EmailMessage parts.
        return email.message_from_bytes(envelope.content, policy=default)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpMailer, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpMailer(host="127.0.0.1", port=port, timeout_s=5), inbox
    finally:
        controller.stop()


def customer(session: Session, clock: FakeClock, **fields: object) -> tuple[Tenant, Account]:
    tenant = make_tenant(
        session, clock, currency="GBP", locale="en_GB", brand_name="Northwind Telecom"
    )
    fields.setdefault("email", "ap@acme.example")
    return tenant, make_account(session, clock, tenant, name="Acme Ltd", **fields)


def test_the_invoice_arrives_at_an_smtp_server_with_the_pdf_attached(
    session: Session, clock: FakeClock, smtp_server: tuple[SmtpMailer, Inbox]
) -> None:
    # given an issued invoice of a customer with an e-mail address, and an SMTP server
    mailer, inbox = smtp_server
    tenant, account = customer(session, clock)
    invoice = insert_invoice(
        session, clock, account, [Line("Fibre", Decimal("99.00"))], number="NW-2026-000007"
    )

    # when it is sent
    delivery = service.send_invoice(
        session,
        clock,
        scope=scope_of(session, tenant),
        invoice_id=invoice.id,
        mailer=mailer,
        sender="billing@northwind.example",
    )

    # then the server received one message to the account, with the number in the subject,
    # a text and an HTML part, and the invoice's PDF attached
    [message] = inbox.received
    assert message["To"] == "ap@acme.example"
    assert "NW-2026-000007" in message["Subject"]
    assert message["From"] == "Northwind Telecom <billing@northwind.example>"
    assert "Amount due: £99.00" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert message.get_body(("html",)) is not None
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "NW-2026-000007.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF")
    # and the delivery is recorded as sent, with the message id
    assert (delivery.status, delivery.to, delivery.already_sent) == ("sent", "ap@acme.example",
                                                                      False)  # fmt: skip
    assert delivery.message_id == message["Message-ID"]
    assert delivery.sent_at == clock.now()


def test_sending_twice_sends_once_unless_forced(session: Session, clock: FakeClock) -> None:
    tenant, account = customer(session, clock)
    invoice = insert_invoice(session, clock, account, [Line("Fibre", Decimal("99.00"))])
    mailer, scope = MemoryMailer(), scope_of(session, tenant)

    first = service.send_invoice(session, clock, scope=scope, invoice_id=invoice.id, mailer=mailer)
    again = service.send_invoice(session, clock, scope=scope, invoice_id=invoice.id, mailer=mailer)
    assert len(mailer.sent) == 1
    assert (again.id, again.already_sent) == (first.id, True)

    forced = service.send_invoice(
        session, clock, scope=scope, invoice_id=invoice.id, mailer=mailer, force=True
    )
    assert len(mailer.sent) == 2
    assert forced.id != first.id
    assert len(service.deliveries(session, scope=scope, invoice_id=invoice.id)) == 2


def test_a_draft_is_not_sent(session: Session, clock: FakeClock) -> None:
    tenant, account = customer(session, clock)
    draft = insert_invoice(session, clock, account, [Line("Fibre", Decimal(1))], number=None)
    mailer = MemoryMailer()
    with pytest.raises(ConflictError) as refused:
        service.send_invoice(
            session, clock, scope=scope_of(session, tenant), invoice_id=draft.id, mailer=mailer
        )
    assert (refused.value.field, refused.value.code) == ("status", "invoice_not_issued")
    assert mailer.sent == []


def test_an_account_without_email_is_refused_naming_the_field(
    session: Session, clock: FakeClock
) -> None:
    tenant, account = customer(session, clock, email=None)
    invoice = insert_invoice(session, clock, account, [Line("Fibre", Decimal(1))])
    mailer = MemoryMailer()
    with pytest.raises(InvalidInputError) as refused:
        service.send_invoice(
            session, clock, scope=scope_of(session, tenant), invoice_id=invoice.id, mailer=mailer
        )
    assert (refused.value.field, refused.value.code) == ("email", "no_email")
    assert mailer.sent == []
    assert session.scalar(select(func.count()).select_from(InvoiceDelivery)) == 0


def test_a_server_that_refuses_is_recorded_as_a_failed_delivery(
    session: Session, clock: FakeClock
) -> None:
    # given an SMTP port where nothing listens
    tenant, account = customer(session, clock)
    invoice = insert_invoice(session, clock, account, [Line("Fibre", Decimal(1))])
    nobody = SmtpMailer(host="127.0.0.1", port=free_port(), timeout_s=2)

    # when sent there
    delivery = service.send_invoice(
        session, clock, scope=scope_of(session, tenant), invoice_id=invoice.id, mailer=nobody
    )

    # then the delivery is recorded as failed with its reason, and a later send tries again
    assert delivery.status == "failed"
    assert delivery.error is not None
    assert "ConnectionRefusedError" in delivery.error
    mailer = MemoryMailer()
    retried = service.send_invoice(
        session, clock, scope=scope_of(session, tenant), invoice_id=invoice.id, mailer=mailer
    )
    assert (retried.status, len(mailer.sent)) == ("sent", 1)
