"""The states and kinds of billing's records. Pure. (An invoice line's kind is
`subscriptions.charges.LineKind`, shared with the charge engine.)"""

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


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"


class ItemStatus(StrEnum):
    PENDING = "pending"
    INVOICED = "invoiced"
    NOTHING_DUE = "nothing_due"
    FAILED = "failed"
