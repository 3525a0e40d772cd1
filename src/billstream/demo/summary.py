"""What the demo shows of its month: stages, usage files, rejects, margin, bill runs, Org ABC's
invoices and where the PDFs are, read back from the database through the services."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.billing.models import BillRun, Invoice, InvoiceLine, InvoiceTax
from billstream.core.money import tidy
from billstream.demo.generate import ORG_ABC_ROOT
from billstream.demo.month import (
    MONTH_END,
    NEXT_MONTH,
    DemoOptions,
    Stages,
    brand_tenants,
    org_abc_invoices,
    pdf_path,
)
from billstream.demo.provider import PARENT, US
from billstream.demo.subscriptions import START
from billstream.mediation.models import UsageFile, UsageReject
from billstream.rating.models import RatedUsage, RatingRun
from billstream.rating.service.margin import MarginBy, MarginGroup, margin_report
from billstream.subscriptions.charges import LineKind
from billstream.tenants.models import Tenant
from billstream.tenants.service import operator_context, resolved_settings

MICROS = Decimal("0.000001")
CENT = Decimal("0.01")


def _money(micros: int, currency: str) -> str:
    return f"{(Decimal(micros) * MICROS).quantize(CENT):,} {currency}"


def _share(part: int, whole: int) -> str:
    if not whole:
        return "-"
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.1'))}%"


def stages_table(stages: Stages) -> Table:
    table = Table("stage", "what", "seconds", title="Stages of this run")
    for name, detail, seconds in stages.rows:
        table.add_row(name, detail, f"{seconds:.1f}")
    total = sum(seconds for *_, seconds in stages.rows)
    table.add_row("total", "", f"{total:.1f}", end_section=False)
    return table


def files_table(session: Session, root: Tenant) -> Table:
    table = Table(
        "file", "records in", "accepted", "rejected", "duplicates", title="Usage files received"
    )
    files = session.scalars(
        select(UsageFile).where(UsageFile.root_tenant_id == root.id).order_by(UsageFile.name)
    )
    for f in files:
        counts = (f.records_in, f.accepted, f.rejected, f.duplicates)
        table.add_row(f.name, *(f"{n:,}" for n in counts))
    return table


def rejects_table(session: Session, root: Tenant, brands: Mapping[str, Tenant]) -> Table:
    """Mediation's open rejects and rating's, by reason, with where to look."""
    table = Table("stage", "reason", "records", "see them with", title="Rejected records")
    mediation = session.execute(
        select(UsageReject.reason, func.count())
        .where(UsageReject.tenant_id == root.id, UsageReject.status == "open")
        .group_by(UsageReject.reason)
        .order_by(func.count().desc())
    ).all()
    for reason, count in mediation:
        hint = f"billstream usage rejects --tenant {PARENT.slug} --reason {reason}"
        table.add_row("mediation", reason, f"{count:,}", hint)
    for code, tenant in brands.items():
        rating = session.execute(
            select(RatedUsage.reject_reason, func.count())
            .join(RatingRun, RatingRun.id == RatedUsage.run_id)
            .where(
                RatingRun.tenant_id == tenant.id,
                RatedUsage.reject_reason.is_not(None),
                RatedUsage.superseded_by.is_(None),
            )
            .group_by(RatedUsage.reject_reason)
        ).all()
        for rating_reason, count in rating:
            hint = f"GET /v1/rated-usage (tenant {tenant.slug}); not invoiced"
            table.add_row(f"rating ({code})", str(rating_reason), f"{count:,}", hint)
    return table


def margin_table(session: Session, brands: Mapping[str, Tenant]) -> Table:
    """Dual rating's result: retail, cost and margin per carrier, and each brand's total."""
    table = Table(
        "brand",
        "carrier",
        "records",
        "minutes",
        "retail",
        "cost",
        "margin",
        "margin %",
        "uncosted",
        title=f"Margin per carrier, {START:%B %Y} (retail - carrier cost)",
    )
    for code, tenant in brands.items():
        report = margin_report(
            session,
            ctx=operator_context(session, tenant.id),
            group_by=MarginBy.CARRIER,
            start=START,
            end=NEXT_MONTH,
        )
        rows = [(code, g) for g in report.groups] + [(f"{code} total", t) for t in report.totals]
        for i, (label, group) in enumerate(rows):
            _margin_row(table, label, group, last=i == len(rows) - 1)
    return table


def _margin_row(table: Table, label: str, g: MarginGroup, *, last: bool) -> None:
    table.add_row(
        label,
        "" if label.endswith("total") else (g.key or "no carrier"),
        f"{g.records:,}",
        f"{g.billed_minutes.quantize(Decimal(1)):,}",
        _money(g.retail_micros, g.currency),
        _money(g.cost_micros, g.currency),
        _money(g.margin_micros, g.currency),
        _share(g.margin_micros, g.retail_micros),
        f"{g.uncosted:,}",
        end_section=last,
    )


def bill_runs_table(session: Session, brands: Mapping[str, Tenant]) -> Table:
    """Each brand's January runs: accounts billed, invoices, and what they total."""
    table = Table(
        "brand",
        "runs",
        "accounts",
        "invoiced",
        "nothing due",
        "failed",
        "recurring",
        "usage",
        "tax",
        "invoices total",
        title=f"Bill runs of {START:%B %Y} (closes to {MONTH_END})",
    )
    for code, tenant in brands.items():
        runs = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(BillRun.accounts), 0),
                func.coalesce(func.sum(BillRun.invoiced), 0),
                func.coalesce(func.sum(BillRun.nothing_due), 0),
                func.coalesce(func.sum(BillRun.failed), 0),
            ).where(BillRun.tenant_id == tenant.id, BillRun.run_date <= MONTH_END)
        ).one()
        kinds = _totals_by_kind(session, tenant.id)
        lines = sum(kinds.values(), Decimal(0))
        usage = kinds[LineKind.USAGE] + kinds[LineKind.USAGE_CORRECTION]
        tax = _month_tax(session, tenant.id)
        currency = tenant_currency(session, tenant.id)
        table.add_row(
            f"{tenant.name} ({code})",
            *(f"{int(n):,}" for n in runs),
            *(_amount(x, currency) for x in (lines - usage, usage, tax, lines + tax)),
        )
    return table


def _month_tax(session: Session, tenant_id: str) -> Decimal:
    """The taxes of the month's invoices (summed as decimals, as `_totals_by_kind`)."""
    amounts = session.scalars(
        select(InvoiceTax.amount)
        .join(Invoice, Invoice.id == InvoiceTax.invoice_id)
        .join(BillRun, BillRun.id == Invoice.bill_run_id)
        .where(Invoice.tenant_id == tenant_id, BillRun.run_date <= MONTH_END)
    )
    return sum(amounts, Decimal(0))


def _totals_by_kind(session: Session, tenant_id: str) -> dict[str, Decimal]:
    """What the month's invoices charged per line kind, summed as decimals (SQLite's SUM
    of a NUMERIC column is a float)."""
    rows = session.execute(
        select(InvoiceLine.kind, InvoiceLine.amount)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(BillRun, BillRun.id == Invoice.bill_run_id)
        .where(Invoice.tenant_id == tenant_id, BillRun.run_date <= MONTH_END)
    ).all()
    totals: dict[str, Decimal] = {kind.value: Decimal(0) for kind in LineKind}
    for kind, amount in rows:
        totals[kind] += amount
    return totals


def tenant_currency(session: Session, tenant_id: str) -> str:
    return resolved_settings(session, tenant_id).currency


def org_abc_invoice_tables(session: Session, brand: Tenant) -> list[RenderableType]:
    """SPEC C2 on real invoices: each of Org ABC's invoices, its lines grouped by the
    sub-account they come from (hierarchy order), and which accounts it carries."""
    ids = org_abc_invoices(session, brand)
    if not ids:
        return []
    tree = {
        a.id: a
        for a in session.scalars(select(Account).where(Account.tenant_id == brand.id))
        if a.external_id is not None and a.external_id.startswith(ORG_ABC_ROOT)
    }
    table = Table(
        "invoice",
        "sub-account",
        "recurring",
        "usage",
        "amount",
        title=f"Org ABC's invoices of {MONTH_END}, by sub-account (SPEC C2)",
    )
    notes: list[RenderableType] = []
    for invoice in session.scalars(select(Invoice).where(Invoice.id.in_(ids))):
        lines = list(
            session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.position)
            )
        )
        sources = {line.source_account_id for line in lines} - {invoice.account_id}
        others = sorted(sources, key=lambda a: tree[a].name if a in tree else a)
        carried = [invoice.account_id, *others]
        for i, account_id in enumerate(carried):
            mine = [line for line in lines if line.source_account_id == account_id]
            recurring = sum((x.amount for x in mine if x.kind != LineKind.USAGE), Decimal(0))
            usage = sum((x.amount for x in mine if x.kind == LineKind.USAGE), Decimal(0))
            table.add_row(
                invoice.number or invoice.id if i == 0 else "",
                tree[account_id].name if account_id in tree else account_id,
                _amount(recurring, invoice.currency, with_currency=False),
                _amount(usage, invoice.currency, with_currency=False),
                _amount(recurring + usage, invoice.currency),
                end_section=i == len(carried) - 1,
            )
        payer = tree[invoice.account_id].name
        names = ", ".join(tree[a].name for a in carried)
        notes.append(
            Text(
                f"{payer}'s invoice {invoice.number} carries: {names}; "
                f"total {_amount(invoice.total, invoice.currency)} "
                f"(tax {_amount(invoice.tax_total, invoice.currency, with_currency=False)})"
            )
        )
    return [table, *notes, org_abc_recurring_table(session, ids)]


def org_abc_recurring_table(session: Session, invoice_ids: list[str]) -> Table:
    """The numbers plan's lines of Org ABC's invoices: SPEC C4's figures, billed."""
    table = Table(
        "invoice",
        "account",
        "service",
        "quantity",
        "unit price",
        "amount",
        title="Org ABC's numbers, invoiced (SPEC C4)",
    )
    rows = session.execute(
        select(Invoice.number, Invoice.currency, Account.name, InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(Account, Account.id == InvoiceLine.source_account_id)
        .where(InvoiceLine.invoice_id.in_(invoice_ids), InvoiceLine.kind != LineKind.USAGE)
        .order_by(Invoice.number, InvoiceLine.position)
    ).all()
    for number, currency, name, line in rows:
        end = line.service_end
        table.add_row(
            number or "",
            name,
            f"{line.service_start:%b %d} - {end and end.fromordinal(end.toordinal() - 1):%b %d}",
            f"{line.quantity.normalize():f}",
            _price(line.unit_price),
            _amount(line.amount, currency, with_currency=False),
        )
    return table


def _amount(value: Decimal, currency: str, *, with_currency: bool = True) -> str:
    """An amount as stored, with its currency's places (`tidy`: PostgreSQL gives back ten)
    and thousands separators, followed by the currency unless `with_currency` is false."""
    text = f"{tidy(value, currency):,}"
    return f"{text} {currency}" if with_currency else text


def _price(value: Decimal | None) -> str:
    """A unit price with at least the cents: 5.00, 0.0075."""
    if value is None:
        return ""
    exact = value.normalize()
    places = exact.as_tuple().exponent
    return f"{exact:f}" if isinstance(places, int) and places < -2 else f"{value.quantize(CENT)}"


def pdf_lines(session: Session, options: DemoOptions, brand: Tenant | None) -> list[RenderableType]:
    """Where the sample's PDFs are, Org ABC's first, and how to get any other invoice's."""
    if not options.pdfs:
        return [Text("No PDFs rendered (--pdfs 0).")]
    written = sorted(options.invoices_dir.glob("*/*.pdf"))
    ids = org_abc_invoices(session, brand) if brand else []
    abc = [p for p in (pdf_path(session, options.invoices_dir, i) for i in ids) if p.exists()]
    others = [path for path in written if path not in abc]
    shown = [f"  {path}  (Org ABC)" for path in abc] + [f"  {path}" for path in others[:3]]
    more = len(written) - len(shown)
    return [
        Text(
            f"{len(written)} invoice PDFs under {options.invoices_dir}/<brand>/<number>.pdf:\n"
            + "\n".join(shown)
            + (f"\n  ... and {more} more" if more > 0 else "")
            + f"\nAny other invoice: billstream invoice render NUMBER --out {options.invoices_dir}"
            ", or GET /v1/invoices/{id}/pdf over the API."
        )
    ]


def next_steps(options: DemoOptions) -> Text:
    return Text(
        "Next: start the API and browse the invoices.\n"
        "  billstream serve\n"
        f"  billstream apikey create --tenant {PARENT.slug} --descendants\n"
        "  then open http://127.0.0.1:8000/docs, authorise with the token, and list\n"
        "  GET /v1/invoices, GET /v1/invoices/{id}/pdf, GET /v1/usage/rejects.\n"
        f"The month's CDR files are in {options.cdrs_dir}: importing one again "
        f"(billstream usage import FILE --format northwind-carrier-csv --tenant {PARENT.slug}) "
        "reports every record as a duplicate."
    )


def month_tables(
    session: Session, *, root: Tenant, stages: Stages, options: DemoOptions
) -> list[RenderableType]:
    brands = brand_tenants(session)
    us = brands.get(US.code)
    shown: list[RenderableType] = []
    if stages.rows:
        shown.append(stages_table(stages))
    shown += [
        files_table(session, root),
        rejects_table(session, root, brands),
        margin_table(session, brands),
        bill_runs_table(session, brands),
        *(org_abc_invoice_tables(session, us) if us else []),
        *pdf_lines(session, options, us),
        next_steps(options),
    ]
    return shown
