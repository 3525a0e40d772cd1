"""Bill runs, invoices, credit notes and tax rates over REST.

There is no route that edits an issued invoice: its amounts and lines are fixed (and the
database refuses a change from anywhere). What moves on is its status: payments, void, and
credit notes, each a new document.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from billstream.api.context import Context, Paging
from billstream.api.pages import PageOut
from billstream.api.routing import TransactionalRoute
from billstream.billing import service
from billstream.billing.models import BillRun, Invoice
from billstream.billing.schemas import (
    BillRunCreate,
    BillRunOut,
    CreditNoteCreate,
    DryRunOut,
    FailureOut,
    InvoiceOut,
    PaymentCreate,
    TaxRateCreate,
    TaxRateInForceOut,
    TaxRateOut,
    VoidCreate,
    draft_out,
    invoice_out,
)
from billstream.billing.service import UpcomingCharges
from billstream.core.bounds import Day
from billstream.db.pagination import paginate
from billstream.rating.schemas import RatedUsageOut
from billstream.subscriptions.api import line_out as charge_line_out
from billstream.subscriptions.schemas import CurrencyTotalOut, PeriodTotalOut, UpcomingChargesOut
from billstream.subscriptions.service import local_today
from billstream.tenants.context import TenantContext

bill_runs = APIRouter(prefix="/bill-runs", tags=["billing"], route_class=TransactionalRoute)
invoices = APIRouter(prefix="/invoices", tags=["billing"], route_class=TransactionalRoute)
tax_rates = APIRouter(prefix="/tax-rates", tags=["billing"], route_class=TransactionalRoute)
# An invoice is named by id or number, and a number may hold slashes (`NWUK/2026/00001`):
# every invoice route takes `{invoice_id:path}`. `GET /invoices/{invoice_id:path}` would
# then also match `/invoices/NWUK/2026/00001/pdf`, and the first route that matches wins,
# so it sits alone in this router, which the app includes after every other.
invoice_by_ref = APIRouter(prefix="/invoices", tags=["billing"], route_class=TransactionalRoute)
upcoming = APIRouter(prefix="/accounts", tags=["subscriptions"], route_class=TransactionalRoute)


def _run_out(ctx: Context, run: BillRun) -> BillRunOut:
    return BillRunOut(
        id=run.id,
        tenant_id=run.tenant_id,
        key=run.key,
        date=run.run_date,
        status=run.status,
        accounts=run.accounts,
        invoiced=run.invoiced,
        nothing_due=run.nothing_due,
        failed=run.failed,
        started_at=run.started_at,
        finished_at=run.finished_at,
        failures=[
            FailureOut(account_id=i.account_id, code=i.error_code, error=i.error)
            for i in service.failed_items(ctx.session, run.id)
        ],
    )


def _request(tenant: TenantContext, body: BillRunCreate) -> service.BillRunRequest:
    return service.BillRunRequest(
        tenant_id=tenant.tenant_id,
        day=body.day,
        accounts=tuple(body.accounts),
        all_accounts=body.all_accounts,
        key=body.key,
    )


@bill_runs.post("", status_code=status.HTTP_201_CREATED, summary="Run a bill run now")
def create_bill_run(ctx: Context, body: BillRunCreate) -> BillRunOut:
    """Bill now, in this request's transaction (for a tenant's few accounts or a list); the
    same key again returns the run. Large runs: `billstream billrun run`, a commit per chunk."""
    tenant = ctx.tenant(body.tenant_id)
    run = service.run_in_one_transaction(
        ctx.session, ctx.clock, ctx=tenant, request=_request(tenant, body), actor=ctx.api_key.id
    )
    return _run_out(ctx, run)


@bill_runs.post("/dry-run", summary="The invoices a bill run would issue now; writes nothing")
def dry_run(ctx: Context, body: BillRunCreate) -> DryRunOut:
    tenant = ctx.tenant(body.tenant_id)
    request = _request(tenant, body)
    result = service.dry_run(ctx.session, ctx.clock, ctx=tenant, request=request)
    return DryRunOut(
        date=body.day,
        accounts=result.accounts,
        invoices=[draft_out(d, tenant_id=request.tenant_id) for d in result.invoices],
        failures=[
            FailureOut(account_id=f.account_id, code=f.code, error=f.message)
            for f in result.failures
        ],
    )


@bill_runs.get("/{bill_run_id}", summary="A bill run: its counts and the accounts that failed")
def get_bill_run(ctx: Context, bill_run_id: str) -> BillRunOut:
    return _run_out(ctx, service.get_bill_run(ctx.session, scope=ctx.scope, run_id=bill_run_id))


def _invoice(ctx: Context, invoice: Invoice) -> InvoiceOut:
    return invoice_out(
        invoice,
        service.invoice_lines(ctx.session, invoice.id),
        service.invoice_taxes(ctx.session, invoice.id),
    )


@invoices.get("", summary="Invoices and credit notes, with their lines")
def list_invoices(
    ctx: Context,
    page: Paging,
    account_id: str | None = None,
    status: str | None = None,
    bill_run_id: str | None = None,
) -> PageOut[InvoiceOut]:
    stmt = service.invoices_query(
        ctx.scope, account_id=account_id, status=status, bill_run_id=bill_run_id
    )
    result = paginate(ctx.session, stmt, Invoice.id, cursor=page.cursor, limit=page.limit)
    return PageOut(data=[_invoice(ctx, i) for i in result.items], next_cursor=result.next_cursor)


@invoice_by_ref.get(
    "/{invoice_id:path}", summary="An invoice (by id or number) with its lines and taxes"
)
def get_invoice(ctx: Context, invoice_id: str) -> InvoiceOut:
    return _invoice(ctx, service.get_invoice(ctx.session, scope=ctx.scope, invoice_id=invoice_id))


@invoices.get(
    "/{invoice_id:path}/lines/{position}/records",
    summary="The rated records behind a usage line, with their lineage",
)
def line_records(
    ctx: Context, invoice_id: str, position: int, page: Paging
) -> PageOut[RatedUsageOut]:
    result = service.line_records(
        ctx.session,
        scope=ctx.scope,
        invoice_id=invoice_id,
        position=position,
        cursor=page.cursor,
        limit=page.limit,
    )
    return PageOut(
        data=[RatedUsageOut.model_validate(r) for r in result.items],
        next_cursor=result.next_cursor,
    )


@invoices.post("/{invoice_id:path}/payments", summary="Record a payment against an issued invoice")
def pay_invoice(ctx: Context, invoice_id: str, body: PaymentCreate) -> InvoiceOut:
    invoice = service.record_payment(
        ctx.session, ctx.clock, scope=ctx.scope, invoice_id=invoice_id, amount=body.amount
    )
    return _invoice(ctx, invoice)


@invoices.post("/{invoice_id:path}/void", summary="Void an issued, unpaid invoice")
def void_invoice(ctx: Context, invoice_id: str, body: VoidCreate) -> InvoiceOut:
    invoice = service.void_invoice(
        ctx.session, ctx.clock, scope=ctx.scope, invoice_id=invoice_id, reason=body.reason
    )
    return _invoice(ctx, invoice)


@invoices.post(
    "/{invoice_id:path}/credit-notes",
    status_code=status.HTTP_201_CREATED,
    summary="Correct an issued invoice with a credit note",
)
def credit_invoice(ctx: Context, invoice_id: str, body: CreditNoteCreate) -> InvoiceOut:
    invoice = service.get_invoice(ctx.session, scope=ctx.scope, invoice_id=invoice_id)
    note = service.create_credit_note(
        ctx.session,
        ctx.clock,
        scope=ctx.scope,
        invoice_id=invoice.id,
        lines=None
        if body.lines is None
        else [service.CreditRequest(x.position, x.amount) for x in body.lines],
        reason=body.reason,
        on=local_today(ctx.session, ctx.clock, invoice.tenant_id),
    )
    return _invoice(ctx, note)


@tax_rates.post("", status_code=status.HTTP_201_CREATED, summary="Set a jurisdiction's tax")
def create_tax_rate(ctx: Context, body: TaxRateCreate) -> TaxRateOut:
    rate = service.set_tax_rate(
        ctx.session,
        ctx.clock,
        ctx=ctx.tenant(body.tenant_id),
        jurisdiction=body.jurisdiction,
        name=body.name,
        rate=body.rate,
        effective_from=body.effective_from,
    )
    return TaxRateOut.model_validate(rate)


@tax_rates.get("", summary="The tax rules of the caller's tenants (brands inherit them)")
def list_tax_rates(ctx: Context) -> PageOut[TaxRateOut]:
    found = service.list_tax_rates(ctx.session, scope=ctx.scope)
    return PageOut(data=[TaxRateOut.model_validate(r) for r in found], next_cursor=None)


@tax_rates.get(
    "/in-force", summary="The tax rules in force for a tenant on a day, and who set them"
)
def tax_rates_in_force(
    ctx: Context,
    tenant_id: str | None = None,
    on: Annotated[Day | None, Query(description="The tenant's local date; default today")] = None,
) -> PageOut[TaxRateInForceOut]:
    """Per jurisdiction and name, the rule of the nearest tenant up the tenant's chain in
    force that day, with its window and the tenant that set it."""
    found = service.tax_rates_on(ctx.session, clock=ctx.clock, ctx=ctx.tenant(tenant_id), on=on)
    data = [
        TaxRateInForceOut(
            jurisdiction=r.value.jurisdiction,
            name=r.value.name,
            rate=r.value.rate.normalize(),
            tax_rate_id=r.value.id,
            source=r.source,
            effective_from=r.value.effective_from,
            valid_to=r.valid_to,
        )
        for r in found
    ]
    return PageOut(data=data, next_cursor=None)


def upcoming_out(result: UpcomingCharges) -> UpcomingChargesOut:
    return UpcomingChargesOut(
        account_id=result.account_id,
        until=result.until,
        lines=[charge_line_out(line) for line in result.lines],
        period_totals=[
            PeriodTotalOut(
                currency=t.currency,
                period_start=t.period.start,
                period_end=t.period.end,
                amount=t.amount.amount,
            )
            for t in result.period_totals
        ],
        totals=[CurrencyTotalOut(currency=m.currency, amount=m.amount) for m in result.totals],
    )


@upcoming.get(
    "/{account_id}/upcoming-charges",
    summary="What a bill run would charge the account's subscriptions up to a date",
)
def upcoming_charges(
    ctx: Context,
    account_id: str,
    until: Annotated[Day, Query(description="The last local date to preview (inclusive)")],
) -> UpcomingChargesOut:
    result = service.upcoming_charges(
        ctx.session, scope=ctx.scope, account_id=account_id, until=until
    )
    return upcoming_out(result)
