"""The demo's month after its setup: January's bill runs for accounts with their own billing
day, the carriers' CDR files through mediation, rating, the month-end bill runs and a sample
of invoice PDFs.

Each stage commits as the real jobs do (a file, a brand's rating, a bill-run chunk) and is
skipped when the database shows it done, so a demo stopped half-way finishes on the next run
and a finished one is only shown again. Time moves through the `FakeClock`: the anniversary
closes the day after each close, everything else on February 1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from billstream.accounts.models import Account, BillingCycle, BillingMode, NumberAssignment
from billstream.accounts.models import PhoneNumber as Number
from billstream.billing.models import BillRun, Invoice
from billstream.billing.service.runs import BillRunRequest
from billstream.billing.states import RunStatus
from billstream.core.clock import FakeClock
from billstream.demo.generate import ORG_ABC
from billstream.demo.provider import BRANDS
from billstream.demo.rates import RATES
from billstream.demo.subscriptions import START
from billstream.demo.traffic import FORMAT_NAME, FORMAT_YAML, CdrFile, Holding, month_files
from billstream.documents.service import pdf_filename, write_invoice_pdfs
from billstream.jobs.bill_runs import execute_bill_run
from billstream.mediation.models import UsageFile
from billstream.mediation.service import find_format, ingest_cdr_file
from billstream.rating.models import RatingRun
from billstream.rating.service import RatingRequest, rate_period
from billstream.rating.service.cards import local_midnight
from billstream.tenants.models import Tenant
from billstream.tenants.service import operator_context, operator_scope

MONTH_END = date(2026, 1, 31)
NEXT_MONTH = date(2026, 2, 1)
AFTER_MONTH = datetime(2026, 2, 1, 12, tzinfo=UTC)  # February 1 in every brand's zone
ACTOR = "demo"


LOOKUPS = 100_000


@dataclass(frozen=True, slots=True)
class DemoOptions:
    accounts: int
    cdrs: int
    pdfs: int
    seed: int
    data_dir: Path
    formats_dir: Path
    lookups: int = LOOKUPS

    @property
    def invoices_dir(self) -> Path:
        return self.data_dir / "invoices"

    @property
    def cdrs_dir(self) -> Path:
        return self.data_dir / "cdrs"


@dataclass(slots=True)
class Stages:
    """What each stage did and how long it took, in the order they ran."""

    rows: list[tuple[str, str, float]] = field(default_factory=list)

    @contextmanager
    def timed(self, name: str) -> Iterator[list[str]]:
        detail: list[str] = []
        started = time.perf_counter()
        yield detail
        self.rows.append((name, "; ".join(detail), time.perf_counter() - started))


def brand_tenants(session: Session) -> dict[str, Tenant]:
    """The brands' tenants by brand code, in `BRANDS` order (US, UK, SG)."""
    slugs = [brand.tenant.slug for brand in BRANDS]
    found = {t.slug: t for t in session.scalars(select(Tenant).where(Tenant.slug.in_(slugs)))}
    return {b.code: found[b.tenant.slug] for b in BRANDS if b.tenant.slug in found}


# --- bill runs ---------------------------------------------------------------------------


def anniversary_closes(session: Session, tenant_id: str) -> list[date]:
    """January's days on which some paying account with its own billing day closes (the
    month's last day closes with the calendar accounts)."""
    days = session.scalars(
        select(Account.billing_day)
        .where(
            Account.tenant_id == tenant_id,
            Account.billing_cycle == BillingCycle.ANNIVERSARY,
            Account.billing_mode == BillingMode.SELF_PAYING,
            Account.billing_day > 1,
        )
        .distinct()
    )
    return sorted(START + timedelta(days=day - 2) for day in days if day is not None)


def bill_day(
    sessions: sessionmaker[Session], clock: FakeClock, tenant_id: str, day: date
) -> tuple[int, int]:
    """Run (or resume) the bill run of `day` for one brand; (invoiced, failed)."""
    with sessions() as session:
        ctx = operator_context(session, tenant_id)
    summary = execute_bill_run(
        sessions,
        clock,
        ctx=ctx,
        request=BillRunRequest(tenant_id=tenant_id, day=day),
        actor=ACTOR,
    )
    return summary.invoiced, summary.failed


def bill_anniversaries(
    sessions: sessionmaker[Session], clock: FakeClock, brands: Mapping[str, Tenant]
) -> str:
    """The daily runs of January for accounts billed on their own day, each the day after."""
    with sessions() as session:
        closes = {code: anniversary_closes(session, t.id) for code, t in brands.items()}
    runs = invoiced = 0
    for day in sorted({d for days in closes.values() for d in days}):
        clock.set(datetime.combine(day + timedelta(days=1), AFTER_MONTH.timetz()))
        for code, tenant in brands.items():
            if day in closes[code]:
                runs += 1
                invoiced += bill_day(sessions, clock, tenant.id, day)[0]
    return f"{runs} daily runs, {invoiced} invoices"


def month_end_billed(session: Session, brands: Mapping[str, Tenant]) -> bool:
    """Whether every brand's month-end run has finished."""
    finished = session.scalar(
        select(func.count()).where(
            BillRun.tenant_id.in_([t.id for t in brands.values()]),
            BillRun.run_date == MONTH_END,
            BillRun.status == RunStatus.COMPLETED,
        )
    )
    return bool(brands) and finished == len(brands)


def bill_month_end(
    sessions: sessionmaker[Session], clock: FakeClock, brands: Mapping[str, Tenant]
) -> str:
    clock.set(AFTER_MONTH)
    invoiced = failed = 0
    for tenant in brands.values():
        done, broken = bill_day(sessions, clock, tenant.id, MONTH_END)
        invoiced, failed = invoiced + done, failed + broken
    return f"{len(brands)} runs for {MONTH_END}, {invoiced} invoices, {failed} failed"


# --- usage -------------------------------------------------------------------------------


def holdings(session: Session, brands: Mapping[str, Tenant]) -> dict[str, Holding]:
    """Per brand, the numbers held all January and those nobody holds then."""
    found: dict[str, Holding] = {}
    for code, tenant in brands.items():
        month = local_midnight(START, tenant_settings_zone(code))
        in_force = or_(NumberAssignment.valid_to.is_(None), NumberAssignment.valid_to > month)
        held = set(
            session.scalars(
                select(Number.e164)
                .join(NumberAssignment, NumberAssignment.number_id == Number.id)
                .where(Number.tenant_id == tenant.id, NumberAssignment.valid_from <= month)
                .where(in_force)
            )
        )
        every = session.scalars(
            select(Number.e164).where(Number.tenant_id == tenant.id).order_by(Number.e164)
        ).all()
        found[code] = Holding(
            held=sorted(held), unheld=[number for number in every if number not in held]
        )
    return found


def tenant_settings_zone(code: str) -> str:
    return next(brand.tenant.timezone for brand in BRANDS if brand.code == code)


def expected_files() -> list[str]:
    carriers = sorted(c.name for rates in RATES.values() for c in rates.carriers)
    return [f"{carrier}-{START:%Y-%m}.csv" for carrier in carriers]


def received(session: Session, root: Tenant) -> set[str]:
    return set(
        session.scalars(
            select(UsageFile.name).where(
                UsageFile.root_tenant_id == root.id, UsageFile.duplicate_of.is_(None)
            )
        )
    )


def generate_month(
    sessions: sessionmaker[Session], brands: Mapping[str, Tenant], options: DemoOptions
) -> list[CdrFile]:
    """The month's carrier files, also written to `cdrs_dir` (to import again, say)."""
    with sessions() as session:
        held = holdings(session, brands)
    files = month_files(held, total=options.cdrs, seed=options.seed, month=START)
    options.cdrs_dir.mkdir(parents=True, exist_ok=True)
    for cdr_file in files:
        (options.cdrs_dir / cdr_file.name).write_bytes(cdr_file.data)
    return files


def install_format(formats_dir: Path) -> None:
    """The carriers' CSV format, as a tenant's format file (reprocessing reads it there)."""
    path = formats_dir / f"{FORMAT_NAME}.yaml"
    if not path.exists() or path.read_text() != FORMAT_YAML:
        formats_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(FORMAT_YAML)


def ingest_month(
    sessions: sessionmaker[Session],
    clock: FakeClock,
    root: Tenant,
    files: Sequence[CdrFile],
    formats_dir: Path,
) -> str:
    """Ingest each file at the parent company (one job for all brands), one commit each."""
    clock.set(AFTER_MONTH)
    install_format(formats_dir)
    fmt = find_format(FORMAT_NAME, formats_dir)
    accepted = rejected = 0
    for cdr_file in files:
        with sessions.begin() as session:
            if cdr_file.name in received(session, root):
                continue
            report = ingest_cdr_file(
                session,
                clock=clock,
                ctx=operator_context(session, root.id),
                fmt=fmt,
                name=cdr_file.name,
                data=cdr_file.data,
            )
        accepted, rejected = accepted + report.accepted, rejected + report.rejected
    return f"{len(files)} files, {accepted:,} accepted, {rejected:,} rejected"


def rate_month(
    sessions: sessionmaker[Session],
    clock: FakeClock,
    brands: Mapping[str, Tenant],
    data_dir: Path,
) -> str:
    """Rate each brand's January at retail and cost, once (a rated brand is left alone)."""
    clock.set(AFTER_MONTH)
    rated = 0
    for tenant in brands.values():
        with sessions.begin() as session:
            if _rating_run(session, tenant.id) is not None:
                continue
            run = rate_period(
                session,
                clock=clock,
                ctx=operator_context(session, tenant.id),
                request=RatingRequest(tenant_id=tenant.id, start=START, end=NEXT_MONTH),
                data_dir=data_dir,
            )
            rated += run.rated
    return f"{rated:,} records rated at retail and cost"


def _rating_run(session: Session, tenant_id: str) -> str | None:
    return session.scalar(
        select(RatingRun.id).where(RatingRun.tenant_id == tenant_id, RatingRun.version == 1)
    )


# --- documents ---------------------------------------------------------------------------


def org_abc_invoices(session: Session, brand: Tenant) -> list[str]:
    """Org ABC's invoices of the month-end run (ABC's and Support's), by number."""
    return list(
        session.scalars(
            select(Invoice.id)
            .join(Account, Account.id == Invoice.account_id)
            .join(BillRun, BillRun.id == Invoice.bill_run_id)
            .where(
                Invoice.tenant_id == brand.id,
                Account.external_id.in_([ext for ext, *_ in ORG_ABC]),
                BillRun.run_date == MONTH_END,
            )
            .order_by(Invoice.number)
        )
    )


def sample_invoices(session: Session, brands: Mapping[str, Tenant], count: int) -> list[str]:
    """`count` invoices: Org ABC's first, then spread evenly over each brand's numbers."""
    us = brands.get(BRANDS[0].code)
    chosen = org_abc_invoices(session, us)[:count] if us else []
    left = count - len(chosen)
    for i, tenant in enumerate(brands.values()):
        share = left // len(brands) + (1 if i < left % len(brands) else 0)
        ids = session.scalars(
            select(Invoice.id)
            .where(Invoice.tenant_id == tenant.id, Invoice.id.not_in(chosen))
            .order_by(Invoice.number)
        ).all()
        if ids and share:
            step = max(len(ids) // share, 1)
            chosen += list(ids[::step][:share])
    return chosen


def missing_pdfs(
    session: Session, brands: Mapping[str, Tenant], options: DemoOptions
) -> tuple[list[str], int]:
    """The sample's invoices whose PDF is not written yet, and the sample's size."""
    wanted = sample_invoices(session, brands, options.pdfs)
    todo = [i for i in wanted if not pdf_path(session, options.invoices_dir, i).exists()]
    return todo, len(wanted)


def write_pdfs(
    sessions: sessionmaker[Session],
    root: Tenant,
    brands: Mapping[str, Tenant],
    options: DemoOptions,
) -> str:
    """The sample's PDFs not written yet, as `<invoices_dir>/<brand>/<number>.pdf`."""
    with sessions() as session:
        todo, wanted = missing_pdfs(session, brands, options)
        paths = write_invoice_pdfs(
            session,
            scope=operator_scope(session, root.id),
            invoice_ids=todo,
            directory=options.invoices_dir,
        )
    return f"{len(paths)} written, {wanted - len(todo)} there already"


def pdf_path(session: Session, directory: Path, invoice_id: str) -> Path:
    invoice, slug = session.execute(
        select(Invoice, Tenant.slug)
        .join(Tenant, Tenant.id == Invoice.tenant_id)
        .where(Invoice.id == invoice_id)
    ).one()
    return directory / slug / pdf_filename(invoice)
