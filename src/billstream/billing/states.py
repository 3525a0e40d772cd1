"""The states and kinds of billing's records. Pure."""

from __future__ import annotations

from enum import StrEnum


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


class LineKind(StrEnum):
    RECURRING = "recurring"
    CREDIT = "credit"  # a prorated recurring line taken back (downgrade, cancellation)
    ONE_TIME = "one_time"
    SETUP_FEE = "setup_fee"
    EARLY_TERMINATION_FEE = "early_termination_fee"
    USAGE = "usage"
    USAGE_CORRECTION = "usage_correction"  # re-rated usage of a period already invoiced
    CORRECTION = "correction"  # a line of a credit note


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"


class ItemStatus(StrEnum):
    PENDING = "pending"
    INVOICED = "invoiced"
    NOTHING_DUE = "nothing_due"
    FAILED = "failed"
