"""The kinds of documents: a template's kind and an invoice e-mail's status (no I/O: the
rendering uses them without the tables)."""

from __future__ import annotations

from enum import StrEnum


class TemplateKind(StrEnum):
    INVOICE = "invoice"  # invoices and credit notes
    RECEIPT = "receipt"  # a paid invoice
    EMAIL = "email"  # the message an invoice is sent with: subject, text and html blocks


class DeliveryStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"
