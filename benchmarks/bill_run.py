"""January's close: `--accounts` accounts billed into committed invoices, set-based vs per account.

Builds (see `benchmarks.bill_run_data`) a tenant of `--accounts` accounts (default 100k): 70%
standalone payers and 30% trees of a payer with 1-4 sub-accounts billed to it, 1-5
subscriptions each (calendar billing, four plans in arrears and in advance, a setup fee, 20%
of the per-unit ones changing quantity mid-January) and January's rated usage (5-20 rated
records per account, ~1% rejected). Then measures in one run:

(a) the month-end bill run of Jan 31 (`jobs.bill_runs.execute_bill_run`, chunks of `--chunk`
    payers, each chunk committed), checked: one invoice per payer with something due, no
    failure, totals = lines + taxes on a sample, usage invoiced = usage rated (to the cent
    per line), gapless numbers;
(b) the baseline: the same close of a second tenant of `--sample` accounts, billed one paying
    account at a time (`BillRunRequest(accounts=(id,))`, one run per payer);
(c) `--pdfs` of (a)'s invoices written as PDF files by `documents.write_invoice_pdfs` (one
    process, so PDFs/s is per core).

Prints invoices/s for (a) and (b), the speed-up, and PDFs/s; with `--json` ends with one JSON
line (`invoices_per_s`, `accounts`, `seconds`, `pdfs_per_s`, ... of the last database, and
`by_backend`: invoices/s of each). Each `--database` is measured in turn: `sqlite` (the
default) a temporary SQLite file, `postgresql+psycopg://user@host:port/any` a fresh database
`bench_bill_run_<random>` created on that server and dropped at the end.

    python -m benchmarks.bill_run [--accounts 100000] [--database sqlite --database URL]
        [--pdfs 50] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.bill_run_data import (
    CLOSE,
    Provider,
    build_provider,
    check_rows_like_services,
)
from billstream.billing.models import Invoice, InvoiceLine, InvoiceTax
from billstream.billing.service.runs import BillRunRequest
from billstream.core.clock import FakeClock
from billstream.db.engine import make_engine, make_session_factory
from billstream.db.migrate import upgrade
from billstream.jobs.bill_runs import RunSummary, execute_bill_run
from billstream.rating.models import RatedUsage
from billstream.subscriptions.charges import LineKind
from billstream.tenants.service import operator_context, operator_scope

RUN_AT = datetime(2026, 2, 1, 6, tzinfo=UTC)  # the morning after the close
CHECKED_INVOICES = 500
console = Console()


@contextmanager
def bench_database(url: str | None) -> Iterator[str]:
    """A temporary SQLite file, or a fresh PostgreSQL database on `url`'s server (dropped)."""
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        return
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield url
        return
    name = f"bench_bill_run_{secrets.token_hex(4)}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def generate(sessions: sessionmaker[Session], *, accounts: int, seed: int) -> Provider:
    with sessions.begin() as session:
        return build_provider(session, FakeClock(RUN_AT), accounts=accounts, seed=seed)


def settle(engine: Engine) -> None:
    """Leave the bulk-loaded tables as a database in service would have them before its
    month-end run: vacuumed and analysed (PostgreSQL's autovacuum may be off or behind; SQLite
    has no statistics until asked) and, on PostgreSQL, checkpointed, so the measured run does
    not pay for flushing the generator's gigabytes of writes."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))
        try:
            connection.execute(text("CHECKPOINT"))
        except DBAPIError as exc:  # a role that may not (not a superuser nor pg_checkpoint)
            console.print(f"no CHECKPOINT before the run: {exc.orig}")


def check_generator(sessions: sessionmaker[Session], tenant_id: str) -> None:
    """The bulk rows equal the services' (in a transaction rolled back)."""
    with sessions() as session:
        check_rows_like_services(session, FakeClock(RUN_AT), tenant_id)
        session.rollback()


def bill(
    sessions: sessionmaker[Session],
    provider: Provider,
    *,
    chunk: int,
    accounts: tuple[str, ...],
    workers: int = 1,
) -> RunSummary:
    clock = FakeClock(RUN_AT)
    with sessions() as session:
        ctx = operator_context(session, provider.tenant_id)
    request = BillRunRequest(tenant_id=provider.tenant_id, day=CLOSE, accounts=accounts)
    return execute_bill_run(
        sessions,
        clock,
        ctx=ctx,
        request=request,
        actor="benchmark",
        chunk=chunk,
        workers=workers,
    )


@dataclass(frozen=True, slots=True)
class Timed:
    invoices: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.invoices / self.seconds


def full_run(
    sessions: sessionmaker[Session], provider: Provider, chunk: int, workers: int
) -> tuple[RunSummary, Timed]:
    """(a) The month-end run of the whole tenant."""
    with console.status(f"(a) billing {len(provider.payers):,} payers in chunks of {chunk}"):
        began = time.perf_counter()
        summary = bill(sessions, provider, chunk=chunk, accounts=(), workers=workers)
        seconds = time.perf_counter() - began
    return summary, Timed(summary.invoiced, seconds)


def per_account(sessions: sessionmaker[Session], provider: Provider) -> Timed:
    """(b) The same close, one run per paying account."""
    invoiced = 0
    with console.status(f"(b) billing {len(provider.payers):,} payers one at a time"):
        began = time.perf_counter()
        for payer in provider.payers:
            summary = bill(sessions, provider, chunk=1, accounts=(payer,))
            if summary.failed:
                raise SystemExit(f"per-account run failed for {payer}")
            invoiced += summary.invoiced
        seconds = time.perf_counter() - began
    if invoiced != len(provider.billable):
        raise SystemExit(f"per-account runs invoiced {invoiced}, expected {len(provider.billable)}")
    return Timed(invoiced, seconds)


def verify(sessions: sessionmaker[Session], provider: Provider, summary: RunSummary) -> list[str]:
    """Check (a)'s outcome; the run's invoice ids in number order."""
    expected = (len(provider.payers), len(provider.billable), 0)
    got = (summary.accounts, summary.invoiced, summary.failed)
    if got != expected or summary.status != "completed":
        raise SystemExit(f"run {summary}: expected (accounts, invoiced, failed) = {expected}")
    with sessions() as session:
        rows = session.execute(
            select(Invoice.id, Invoice.number, Invoice.status)
            .where(Invoice.bill_run_id == summary.run_id)
            .order_by(Invoice.number)
        ).all()
        numbers = [r.number for r in rows]
        if len(rows) != summary.invoiced or len(set(numbers)) != len(rows):
            raise SystemExit(f"{len(rows)} invoices, {len(set(numbers))} distinct numbers")
        if {r.status for r in rows} != {"issued"}:
            raise SystemExit("an invoice of the run is not issued")
        first, last = int(numbers[0].rsplit("-", 1)[1]), int(numbers[-1].rsplit("-", 1)[1])
        if last - first + 1 != len(rows):
            raise SystemExit(f"numbers {numbers[0]}..{numbers[-1]} have gaps")
        ids = [r.id for r in rows]
        sample = ids[:: max(1, len(ids) // CHECKED_INVOICES)]
        check_totals(session, sample)
        check_usage(session, sample)
    return ids


def check_totals(session: Session, invoice_ids: list[str]) -> None:
    """subtotal = Σ lines, tax_total = Σ taxes, total = subtotal + tax_total (summed here:
    SQLite stores amounts as decimal text)."""
    lines: dict[str, Decimal] = {}
    for invoice_id, amount in session.execute(
        select(InvoiceLine.invoice_id, InvoiceLine.amount).where(
            InvoiceLine.invoice_id.in_(invoice_ids)
        )
    ):
        lines[invoice_id] = lines.get(invoice_id, Decimal(0)) + amount
    taxes: dict[str, Decimal] = {}
    for invoice_id, amount in session.execute(
        select(InvoiceTax.invoice_id, InvoiceTax.amount).where(
            InvoiceTax.invoice_id.in_(invoice_ids)
        )
    ):
        taxes[invoice_id] = taxes.get(invoice_id, Decimal(0)) + amount
    for invoice in session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids))):
        line_sum, tax_sum = lines.get(invoice.id, Decimal(0)), taxes.get(invoice.id, Decimal(0))
        if (invoice.subtotal, invoice.tax_total, invoice.total) != (
            line_sum,
            tax_sum,
            line_sum + tax_sum,
        ):
            raise SystemExit(f"invoice {invoice.number}: totals differ from its lines and taxes")


def check_usage(session: Session, invoice_ids: list[str]) -> None:
    """On these invoices: usage invoiced = usage rated (accepted rows) of their accounts,
    within half a cent per usage line."""
    amounts = list(
        session.execute(
            select(InvoiceLine.source_account_id, InvoiceLine.amount).where(
                InvoiceLine.invoice_id.in_(invoice_ids), InvoiceLine.kind == LineKind.USAGE
            )
        )
    )
    invoiced = sum((amount for _, amount in amounts), Decimal(0))
    sources = sorted({source for source, _ in amounts})
    rated = session.scalar(
        select(func.sum(RatedUsage.amount_micros)).where(
            RatedUsage.account_id.in_(sources), RatedUsage.reject_reason.is_(None)
        )
    )
    difference = abs(invoiced - Decimal(rated or 0) / 1_000_000)
    if not amounts or difference > Decimal("0.005") * len(amounts):
        raise SystemExit(
            f"usage invoiced {invoiced} vs rated {rated} micros ({len(amounts)} lines)"
        )


def write_pdfs(sessions: sessionmaker[Session], tenant_id: str, invoice_ids: list[str]) -> Timed:
    """(c) Write the invoices' PDFs into a temporary folder, one renderer for the batch."""
    try:
        from billstream.documents.service import write_invoice_pdfs
    except ImportError as exc:  # the documents package is being written
        console.print(f"[yellow]PDFs skipped: {exc}[/]")
        return Timed(0, float("nan"))
    with sessions() as session, tempfile.TemporaryDirectory() as folder:
        scope = operator_scope(session, tenant_id)
        write_invoice_pdfs(
            session, scope=scope, invoice_ids=invoice_ids[:1], directory=Path(folder)
        )
        with console.status(f"(c) writing {len(invoice_ids):,} PDFs"):
            began = time.perf_counter()
            paths = write_invoice_pdfs(
                session, scope=scope, invoice_ids=invoice_ids, directory=Path(folder)
            )
            seconds = time.perf_counter() - began
        if len(paths) != len(invoice_ids) or any(p.read_bytes()[:5] != b"%PDF-" for p in paths):
            raise SystemExit("a PDF is missing or is not a PDF")
    return Timed(len(paths), seconds)


def report(args: argparse.Namespace, backend: str, figures: dict[str, Any]) -> None:
    title = f"Bill run of {CLOSE}, {figures['accounts']:,} accounts ({backend})"
    table = Table("measure", "invoices", "seconds", "per second", title=title)
    table.add_row("generating the data (not timed)", "", f"{figures['generate_s']:.1f}", "")
    table.add_row(f"(a) set-based run, chunks of {args.chunk}, {figures['workers']} worker(s)",
                  f"{figures['invoices']:,}",
                  f"{figures['seconds']:.2f}", f"{figures['invoices_per_s']:,.0f}")  # fmt: skip
    table.add_row(f"(b) one run per payer, {args.sample:,}-account tenant",
                  f"{figures['naive_invoices']:,}", f"{figures['naive_seconds']:.2f}",
                  f"{figures['naive_invoices_per_s']:,.1f}")  # fmt: skip
    if figures["pdfs"]:
        table.add_row(f"(c) PDFs, one process ({os.cpu_count()} cores here)",
                      f"{figures['pdfs']:,}", f"{figures['pdf_seconds']:.2f}",
                      f"{figures['pdfs_per_s']:.2f}")  # fmt: skip
    console.print(table)
    console.print(
        f"{figures['payers']:,} payers, {figures['subscriptions']:,} subscriptions, "
        f"{figures['rated_rows']:,} rated rows; set-based is {figures['speedup']}x the "
        "per-payer runs; counts, numbers, totals and usage checked"
    )


def measure(args: argparse.Namespace, url: str) -> tuple[str, dict[str, Any]]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    began = time.perf_counter()
    with console.status(f"generating {args.accounts:,} accounts"):
        provider = generate(sessions, accounts=args.accounts, seed=args.seed)
        baseline = generate(sessions, accounts=args.sample, seed=args.seed + 1)
        settle(engine)
    generate_s = time.perf_counter() - began
    check_generator(sessions, baseline.tenant_id)
    workers = args.workers if engine.dialect.name == "postgresql" else 1
    summary, fast = full_run(sessions, provider, args.chunk, workers)
    invoice_ids = verify(sessions, provider, summary)
    slow = per_account(sessions, baseline)
    pdfs = write_pdfs(sessions, provider.tenant_id, invoice_ids[: args.pdfs]) if args.pdfs else None
    backend = engine.dialect.name
    engine.dispose()
    figures = {
        "invoices_per_s": round(fast.per_s, 1),
        "workers": workers,
        "accounts": provider.accounts,
        "seconds": round(fast.seconds, 2),
        "pdfs_per_s": round(pdfs.per_s, 2) if pdfs and pdfs.invoices else None,
        "backend": backend,
        "payers": len(provider.payers),
        "invoices": fast.invoices,
        "subscriptions": provider.subscriptions,
        "rated_rows": provider.rated_rows,
        "generate_s": round(generate_s, 1),
        "naive_invoices": slow.invoices,
        "naive_seconds": round(slow.seconds, 2),
        "naive_invoices_per_s": round(slow.per_s, 1),
        "speedup": round(fast.per_s / slow.per_s, 1),
        "pdfs": pdfs.invoices if pdfs else 0,
        "pdf_seconds": round(pdfs.seconds, 2) if pdfs else None,
    }
    return backend, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=500, help="accounts of the baseline")
    parser.add_argument("--pdfs", type=int, default=50, help="PDFs to write (0: none)")
    parser.add_argument("--chunk", type=int, default=1000, help="payers per transaction")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes (PostgreSQL only)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--database",
        action="append",
        help="SQLAlchemy URL, or `sqlite` for a temporary file; repeat to measure several "
        "databases in one run (default: sqlite). PDFs are measured on the last one.",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    databases = args.database or ["sqlite"]
    pdfs = args.pdfs
    results: dict[str, dict[str, Any]] = {}
    for i, database in enumerate(databases):
        args.pdfs = pdfs if i == len(databases) - 1 else 0
        with bench_database(None if database == "sqlite" else database) as url:
            backend, figures = measure(args, url)
        report(args, backend, figures)
        results[backend] = figures
    if args.json:
        last = results[list(results)[-1]]
        summary = {**last, "by_backend": {b: f["invoices_per_s"] for b, f in results.items()}}
        console.print(json.dumps(summary), highlight=False, soft_wrap=True)


if __name__ == "__main__":
    main()
