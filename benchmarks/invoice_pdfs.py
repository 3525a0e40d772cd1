"""Invoice PDFs per second, one process (so per core), by `documents.write_invoice_pdfs`.

Writes `--invoices` issued invoices into a temporary SQLite database, each a typical
hierarchy invoice: a payer and two sub-accounts, `--lines` lines (recurring charges and usage
lines with a two-tier table), VAT. Then renders them all with one renderer (fonts and
templates loaded once, the first PDF not timed) and prints PDFs/s; `--json` ends with one JSON
line (`pdfs`, `seconds`, `pdfs_per_s`, `pages`).

    python -m benchmarks.invoice_pdfs [--invoices 100] [--lines 12] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import update
from sqlalchemy.orm import Session

from billstream.accounts import service as accounts
from billstream.accounts.schemas import AccountCreate
from billstream.billing.models import Invoice, InvoiceLine, InvoiceTax
from billstream.core.clock import FakeClock
from billstream.core.ids import new_id
from billstream.db.engine import make_engine, make_session_factory
from billstream.db.migrate import upgrade
from billstream.documents.service import write_invoice_pdfs
from billstream.tenants.service import create_tenant, operator_context, operator_scope

TIERS = [
    {"from": "0", "rate": "0.05", "quantity": "1000", "amount": "50.00"},
    {"from": "1000", "rate": "0.02", "quantity": "250", "amount": "5.00"},
]


def _invoice(
    session: Session, clock: FakeClock, tenant_id: str, owners: list[str], n: int, lines: int
) -> str:
    payer = owners[0]
    amounts = [Decimal("55.00") if i % 3 == 2 else Decimal("19.99") for i in range(lines)]
    subtotal = sum(amounts, Decimal(0))
    tax = (subtotal * Decimal("0.2")).quantize(Decimal("0.01"))
    invoice = Invoice(
        id=new_id("inv"), tenant_id=tenant_id, account_id=payer, bill_run_id=None,
        kind="invoice", corrects_id=None, number=None, status="draft", currency="GBP",
        period_start=date(2026, 1, 1), period_end=date(2026, 2, 1), issue_date=date(2026, 2, 1),
        due_date=date(2026, 2, 15), subtotal=subtotal, tax_total=tax, total=subtotal + tax,
        amount_paid=Decimal(0), issued_at=None, reason=None, created_at=clock.now(),
        updated_at=clock.now(),
    )  # fmt: skip
    session.add(invoice)
    session.flush()
    for i, amount in enumerate(amounts, start=1):
        usage = i % 3 == 0
        session.add(InvoiceLine(
            tenant_id=tenant_id, invoice_id=invoice.id, position=i,
            line_key=f"{invoice.id}:{i}", source_account_id=owners[i % len(owners)],
            kind="usage" if usage else "recurring",
            description="Calls to UK mobiles" if usage else f"Business line {i}",
            service_start=date(2026, 1, 1), service_end=date(2026, 2, 1),
            quantity=Decimal(1250) if usage else Decimal(1),
            unit_price=None if usage else amount, amount=amount,
            usage_type="voice" if usage else None, destination="UK Mobile" if usage else None,
            lineage={"records": 240, "billed_s": 75000, "allowance_s": 0, "tiers": TIERS}
            if usage else {},
        ))  # fmt: skip
    session.add(InvoiceTax(
        tenant_id=tenant_id, invoice_id=invoice.id, position=1,
        jurisdiction="GB", name="VAT", rate=Decimal(20), taxable=subtotal, amount=tax,
    ))  # fmt: skip
    session.flush()
    session.execute(
        update(Invoice)
        .where(Invoice.id == invoice.id)
        .values(status="issued", number=f"NW-2026-{n:06d}", issued_at=clock.now())
    )
    return invoice.id


def generate(session: Session, *, invoices: int, lines: int) -> tuple[str, list[str]]:
    clock = FakeClock(datetime(2026, 2, 1, tzinfo=UTC))
    tenant = create_tenant(
        session, clock=clock, slug="northwind-uk", name="Northwind UK",
        settings={"currency": "GBP", "locale": "en_GB", "brand_name": "Northwind Telecom",
                  "brand_address": "1 High Street\nLondon", "brand_footer": "Registered 0123"},
    )  # fmt: skip
    ctx = operator_context(session, tenant.id)
    ids = []
    for n in range(1, invoices + 1):
        payer = accounts.create_account(
            session, clock=clock, ctx=ctx,
            data=AccountCreate(tenant_id=tenant.id, name=f"Customer {n}", email="ap@x.example"),
        )  # fmt: skip
        subs = [
            accounts.create_account(
                session, clock=clock, ctx=ctx,
                data=AccountCreate(tenant_id=tenant.id, name=f"Site {n}.{k}", parent_id=payer.id,
                                   billing_mode="billed_to_parent"),
            ).id
            for k in (1, 2)
        ]  # fmt: skip
        ids.append(_invoice(session, clock, tenant.id, [payer.id, *subs], n, lines))
    return tenant.id, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--lines", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        upgrade(engine)
        with make_session_factory(engine)() as session:
            tenant_id, ids = generate(session, invoices=args.invoices, lines=args.lines)
            session.commit()
            scope = operator_scope(session, tenant_id)
            out = Path(folder) / "invoices"
            write_invoice_pdfs(session, scope=scope, invoice_ids=ids[:1], directory=out)  # warm
            began = time.perf_counter()
            paths = write_invoice_pdfs(session, scope=scope, invoice_ids=ids, directory=out)
            seconds = time.perf_counter() - began
            pages = len(PdfReader(io.BytesIO(paths[-1].read_bytes())).pages)
        engine.dispose()
    rate = len(paths) / seconds
    print(f"{len(paths)} PDFs ({args.lines} lines, {pages} page(s) each) in {seconds:.2f} s: "
          f"{rate:.1f} PDFs/s on one core")  # fmt: skip
    if args.json:
        print(json.dumps({"pdfs": len(paths), "seconds": round(seconds, 3),
                          "pdfs_per_s": round(rate, 2), "pages": pages}))  # fmt: skip


if __name__ == "__main__":
    main()
