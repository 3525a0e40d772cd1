"""Billing use cases: bill runs, invoices and their lifecycle, credit notes, tax rates, and
the upcoming-charges preview."""

from billstream.billing.credit_notes import CreditRequest
from billstream.billing.service.invoices import (
    create_credit_note,
    failed_items,
    get_bill_run,
    get_invoice,
    invoice_lines,
    invoice_taxes,
    invoices_query,
    line_records,
    record_payment,
    void_invoice,
)
from billstream.billing.service.planning import PlannedRun, plan_bill_runs
from billstream.billing.service.runs import (
    BillRunRequest,
    DryRun,
    bill_pending,
    dry_run,
    finish_bill_run,
    run_in_one_transaction,
    start_bill_run,
)
from billstream.billing.service.tax_rates import list_tax_rates, set_tax_rate, tax_rates_on
from billstream.billing.service.upcoming import UpcomingCharges, upcoming_charges

__all__ = [
    "BillRunRequest",
    "CreditRequest",
    "DryRun",
    "PlannedRun",
    "UpcomingCharges",
    "bill_pending",
    "create_credit_note",
    "dry_run",
    "failed_items",
    "finish_bill_run",
    "get_bill_run",
    "get_invoice",
    "invoice_lines",
    "invoice_taxes",
    "invoices_query",
    "line_records",
    "list_tax_rates",
    "plan_bill_runs",
    "record_payment",
    "run_in_one_transaction",
    "set_tax_rate",
    "start_bill_run",
    "tax_rates_on",
    "upcoming_charges",
    "void_invoice",
]
