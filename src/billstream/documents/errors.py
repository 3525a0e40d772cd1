"""Error codes of documents (part of the API contract)."""

from __future__ import annotations

from enum import StrEnum


class DocumentErrorCode(StrEnum):
    TEMPLATE_INVALID = "template_invalid"  # refused at save: does not compile or fails a sample
    TEMPLATE_FAILED = "template_failed"  # a stored template failed on a real document
    INVOICE_NOT_ISSUED = "invoice_not_issued"  # a draft is neither sent nor receipted
    NO_EMAIL = "no_email"  # the account has no e-mail address to send to
    ALREADY_SENT = "already_sent"
    MAIL_NOT_CONFIGURED = "mail_not_configured"  # BILLSTREAM_SMTP_HOST is not set
