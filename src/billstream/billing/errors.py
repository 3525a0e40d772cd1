from enum import StrEnum


class BillingErrorCode(StrEnum):
    FUTURE_DATE = "billing_future_date"
    NOT_PAYING = "billing_account_not_paying"
    KEY_REUSED = "billing_run_key_reused"
    WRITE_FAILED = "billing_write_failed"
    CURRENCY_MISMATCH = "billing_currency_mismatch"
    IMMUTABLE = "billing_invoice_immutable"
    INVALID_TRANSITION = "billing_invalid_transition"
    CREDIT_EXCEEDS = "billing_credit_exceeds_invoice"
    AMBIGUOUS_NUMBER = "billing_invoice_number_ambiguous"
