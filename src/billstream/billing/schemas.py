"""API shapes of billing: bill runs, invoices with their lines and taxes, credit notes, taxes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from billstream.billing.assembly import InvoiceDraft
from billstream.billing.models import Invoice, InvoiceLine, InvoiceTax
from billstream.core.bounds import Amount, Day
from billstream.core.decimals import PlainDecimal
from billstream.core.inputs import Input
from billstream.core.money import tidy


class BillRunCreate(Input):
    """Bill the accounts of a tenant whose cycle closes on `date` (the default), every paying
    account (`all_accounts`), or the listed ones. The same `key` twice runs once."""

    model_config = ConfigDict(populate_by_name=True)

    tenant_id: str | None = Field(default=None, description="Default: the caller's tenant")
    day: Day = Field(alias="date", description="The local date whose closing cycles to bill")
    accounts: list[str] = Field(default_factory=list, max_length=10_000)
    all_accounts: bool = False
    key: str | None = Field(default=None, min_length=1, max_length=200)


class FailureOut(BaseModel):
    account_id: str
    code: str | None
    error: str | None


class BillRunOut(BaseModel):
    id: str
    tenant_id: str
    key: str
    date: date
    status: str
    accounts: int
    invoiced: int
    nothing_due: int
    failed: int
    started_at: datetime
    finished_at: datetime | None
    failures: list[FailureOut]


class LineOut(BaseModel):
    position: int
    source_account_id: str
    kind: str
    description: str
    service_start: date | None
    service_end: date | None
    quantity: PlainDecimal
    unit_price: PlainDecimal | None
    amount: PlainDecimal
    subscription_id: str | None
    charge: str | None
    usage_type: str | None
    destination: str | None
    tax_jurisdiction: str | None
    lineage: dict[str, Any]


class TaxOut(BaseModel):
    jurisdiction: str
    name: str
    rate: PlainDecimal
    taxable: PlainDecimal
    amount: PlainDecimal
    rule_id: str | None


class InvoiceOut(BaseModel):
    id: str | None = Field(description="Null in a dry run")
    number: str | None
    kind: str
    status: str
    tenant_id: str
    account_id: str
    bill_run_id: str | None
    corrects_id: str | None
    currency: str
    period_start: date
    period_end: date
    issue_date: date | None
    due_date: date | None
    subtotal: PlainDecimal
    tax_total: PlainDecimal
    total: PlainDecimal
    amount_paid: PlainDecimal
    reason: str | None
    lines: list[LineOut]
    taxes: list[TaxOut]


class DryRunOut(BaseModel):
    date: date
    accounts: int
    invoices: list[InvoiceOut]
    failures: list[FailureOut]


class PaymentCreate(Input):
    amount: Annotated[Amount, Field(gt=0)]


class VoidCreate(Input):
    reason: str = Field(min_length=1, max_length=500)


class CreditLine(Input):
    position: int = Field(ge=1, description="The invoice line to credit")
    amount: Amount | None = Field(default=None, description="Default: what is left of it")


class CreditNoteCreate(Input):
    reason: str = Field(min_length=1, max_length=500)
    lines: list[CreditLine] | None = Field(
        default=None, description="Default: every line, for what is left of it"
    )


class TaxRateCreate(Input):
    tenant_id: str | None = Field(default=None, description="Default: the caller's tenant")
    jurisdiction: str = Field(min_length=2, max_length=16, description="GB, US, US-CA…")
    name: str = Field(min_length=1, max_length=100)
    rate: Decimal = Field(ge=0, le=100, allow_inf_nan=False, description="Percent")
    effective_from: Day


class TaxRateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    jurisdiction: str
    name: str
    rate: PlainDecimal
    effective_from: date
    effective_to: date | None

    @field_validator("rate")
    @classmethod
    def _one_spelling(cls, rate: Decimal) -> Decimal:
        """A percent as given (20), not as the database pads it (20.000000)."""
        return rate.normalize()


class TaxRateInForceOut(BaseModel):
    """A tax rule in force for the tenant asked about on the day asked, and who set it."""

    jurisdiction: str
    name: str
    rate: PlainDecimal = Field(description="Percent")
    tax_rate_id: str
    source: str = Field(
        description="The tenant that set it: the tenant itself or an ancestor; "
        '"inherited" when that tenant is outside the key\'s scope'
    )
    effective_from: date
    valid_to: date | None = Field(description="Until (exclusive); null: no end set")


def line_out(line: InvoiceLine, currency: str) -> LineOut:
    return LineOut(
        position=line.position,
        source_account_id=line.source_account_id,
        kind=line.kind,
        description=line.description,
        service_start=line.service_start,
        service_end=line.service_end,
        quantity=line.quantity.normalize() if line.quantity else Decimal(0),
        unit_price=tidy(line.unit_price, currency) if line.unit_price is not None else None,
        amount=tidy(line.amount, currency),
        subscription_id=line.subscription_id,
        charge=line.charge,
        usage_type=line.usage_type,
        destination=line.destination,
        tax_jurisdiction=line.tax_jurisdiction,
        lineage=line.lineage,
    )


def tax_out(tax: InvoiceTax, currency: str) -> TaxOut:
    return TaxOut(
        jurisdiction=tax.jurisdiction,
        name=tax.name,
        rate=tax.rate.normalize(),
        taxable=tidy(tax.taxable, currency),
        amount=tidy(tax.amount, currency),
        rule_id=tax.rule_id,
    )


def invoice_out(invoice: Invoice, lines: list[InvoiceLine], taxes: list[InvoiceTax]) -> InvoiceOut:
    c = invoice.currency
    return InvoiceOut(
        id=invoice.id,
        number=invoice.number,
        kind=invoice.kind,
        status=invoice.status,
        tenant_id=invoice.tenant_id,
        account_id=invoice.account_id,
        bill_run_id=invoice.bill_run_id,
        corrects_id=invoice.corrects_id,
        currency=c,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        subtotal=tidy(invoice.subtotal, c),
        tax_total=tidy(invoice.tax_total, c),
        total=tidy(invoice.total, c),
        amount_paid=tidy(invoice.amount_paid, c),
        reason=invoice.reason,
        lines=[line_out(x, c) for x in lines],
        taxes=[tax_out(x, c) for x in taxes],
    )


def draft_out(draft: InvoiceDraft, *, tenant_id: str) -> InvoiceOut:
    """A dry run's invoice: what would be issued, without id or number."""
    c = draft.currency
    return InvoiceOut(
        id=None,
        number=None,
        kind="invoice",
        status="draft",
        tenant_id=tenant_id,
        account_id=draft.account_id,
        bill_run_id=None,
        corrects_id=None,
        currency=c,
        period_start=draft.period_start,
        period_end=draft.period_end,
        issue_date=None,
        due_date=None,
        subtotal=tidy(draft.subtotal.amount, c),
        tax_total=tidy(draft.tax_total.amount, c),
        total=tidy(draft.total.amount, c),
        amount_paid=tidy(Decimal(0), c),
        reason=None,
        lines=[
            LineOut(
                position=x.position,
                source_account_id=x.charge.source_account_id,
                kind=x.charge.kind,
                description=x.charge.description,
                service_start=x.charge.service_start,
                service_end=x.charge.service_end,
                quantity=x.charge.quantity.normalize(),
                unit_price=tidy(x.charge.unit_price, c)
                if x.charge.unit_price is not None
                else None,
                amount=tidy(x.charge.amount.amount, c),
                subscription_id=x.charge.subscription_id,
                charge=x.charge.charge,
                usage_type=x.charge.usage_type,
                destination=x.charge.destination,
                tax_jurisdiction=x.tax_jurisdiction,
                lineage=dict(x.charge.lineage),
            )
            for x in draft.lines
        ],
        taxes=[
            TaxOut(
                jurisdiction=t.jurisdiction,
                name=t.name,
                rate=t.rate,
                taxable=t.taxable,
                amount=t.amount,
                rule_id=t.rule_id,
            )
            for t in draft.taxes
        ],
    )
