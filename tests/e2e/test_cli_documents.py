"""`billstream invoice render` and `billstream invoice send` at the command line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from tests.e2e.test_cli import billstream
from tests.e2e.test_cli import data_dir as data_dir  # autouse: a fresh data directory per test
from tests.factories import make_account
from tests.integration.documents.test_delivery import Inbox
from tests.integration.documents.test_delivery import smtp_server as smtp_server
from tests.invoice_rows import Line, insert_invoice

from billstream.bootstrap import bootstrap
from billstream.core.clock import SystemClock
from billstream.documents.mailer import SmtpMailer
from billstream.tenants.service import find_tenant


@pytest.fixture
def invoice(data_dir: Path) -> str:
    """Tenant acme (en_GB, GBP) with an issued invoice ACME-1 of an account with an e-mail."""
    assert billstream("db", "upgrade").exit_code == 0
    created = billstream(
        "tenant", "create", "acme", "--name", "Acme", "--currency", "GBP", "--locale", "en_GB"
    )
    assert created.exit_code == 0, created.output
    runtime = bootstrap()
    try:
        with runtime.session_factory() as session:
            tenant = find_tenant(session, "acme")
            clock = SystemClock()
            account = make_account(session, clock, tenant, name="Globex", email="ap@globex.example")
            insert_invoice(
                session, clock, account, [Line("Fibre", Decimal("45.00"))], number="ACME-1"
            )
            session.commit()
    finally:
        runtime.close()
    return "ACME-1"


def test_render_writes_the_pdf_named_by_its_number(invoice: str, tmp_path: Path) -> None:
    result = billstream("invoice", "render", invoice, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    target = tmp_path / "out" / "ACME-1.pdf"
    assert result.stdout.strip() == str(target)
    assert target.read_bytes().startswith(b"%PDF")


def test_an_unknown_invoice_is_one_clear_line(invoice: str) -> None:
    result = billstream("invoice", "render", "NOPE-9")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: invoice: no invoice has the id or number 'NOPE-9'"


def test_send_needs_smtp_and_then_sends_once(
    invoice: str, smtp_server: tuple[SmtpMailer, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = billstream("invoice", "send", invoice)
    assert refused.exit_code == 1
    assert "BILLSTREAM_SMTP_HOST" in refused.stderr

    mailer, inbox = smtp_server
    monkeypatch.setenv("BILLSTREAM_SMTP_HOST", mailer.host)
    monkeypatch.setenv("BILLSTREAM_SMTP_PORT", str(mailer.port))
    sent = billstream("invoice", "send", invoice)
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.strip() == "ACME-1 sent to ap@globex.example"
    again = billstream("invoice", "send", invoice)
    assert "--force sends it again" in again.stdout
    assert len(inbox.received) == 1
