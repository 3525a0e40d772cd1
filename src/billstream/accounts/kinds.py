"""The kinds an account is described by: its type, who pays its invoices, its billing
cycle and how its invoices are delivered (no I/O: pure modules and API shapes use them
without the tables)."""

from __future__ import annotations

from enum import StrEnum


class AccountType(StrEnum):
    CUSTOMER = "customer"
    VENDOR = "vendor"
    RESELLER = "reseller"
    DEPARTMENT = "department"


class BillingMode(StrEnum):
    SELF_PAYING = "self_paying"
    BILLED_TO_PARENT = "billed_to_parent"


class BillingCycle(StrEnum):
    CALENDAR = "calendar"
    ANNIVERSARY = "anniversary"


class InvoiceDelivery(StrEnum):
    EMAIL = "email"
    NONE = "none"
