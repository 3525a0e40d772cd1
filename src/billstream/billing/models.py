"""Tables of billing: bill runs and their accounts, invoices, their lines and taxes, numbering.

An invoice is written as a draft and issued in the same transaction by a bill run (or later,
by hand). Once issued it is immutable: the database refuses any change to its amounts, lines
or taxes (triggers on both PostgreSQL and SQLite, created by migration 0009), and only its
payment status may move on (issued → partially paid → paid, or void). Corrections are credit
notes: invoices of kind ``credit_note`` that point at the invoice they correct.

Every line keeps what produced it: the sub-account, the subscription and its charge and span,
or the usage aggregate (usage type, destination, the rating runs and the record count), and
tax lines their rule. `line_key` is the line's natural key: a unique index on it means that
whatever runs, twice or concurrently, a charge is on one invoice only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from billstream.db import Base, TimestampMixin
from billstream.db.types import Amount


class BillRun(Base):
    """One bill run of a tenant: its key, what it was asked to bill, and how it went.

    The key is the run's natural key (by default the date and the selection): asking again
    with the same key resumes the run or returns its result, never bills twice.
    """

    __tablename__ = "bill_runs"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    key: Mapped[str] = mapped_column(String(200))
    run_date: Mapped[date]  # the local date whose closing cycles are billed
    selection: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"accounts": [...]} or {}
    status: Mapped[str] = mapped_column(String(16))
    accounts: Mapped[int] = mapped_column(Integer)
    invoiced: Mapped[int] = mapped_column(Integer)
    nothing_due: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class BillRunItem(Base):
    """One paying account of a bill run, with its outcome; written pending at the start, so
    a resumed run knows exactly what is left."""

    __tablename__ = "bill_run_items"
    __table_args__ = (
        UniqueConstraint("run_id", "account_id"),
        Index("ix_bill_run_items_run_id_status", "run_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    run_id: Mapped[str] = mapped_column(ForeignKey("bill_runs.id", ondelete="RESTRICT"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    period_start: Mapped[date]  # the cycle period closing on the run's date
    period_end: Mapped[date]  # exclusive
    status: Mapped[str] = mapped_column(String(16))
    invoice_id: Mapped[str | None] = mapped_column(String(36))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(1000))


class Invoice(TimestampMixin, Base):
    """An invoice or a credit note of a paying account, in one currency."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_invoices_account_id_period_start", "account_id", "period_start"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    bill_run_id: Mapped[str | None] = mapped_column(
        ForeignKey("bill_runs.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    corrects_id: Mapped[str | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str | None] = mapped_column(String(64))  # given when issued
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[date]
    period_end: Mapped[date]  # exclusive
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    subtotal: Mapped[Decimal] = mapped_column(Amount())
    tax_total: Mapped[Decimal] = mapped_column(Amount())
    total: Mapped[Decimal] = mapped_column(Amount())
    amount_paid: Mapped[Decimal] = mapped_column(Amount())
    issued_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(500))  # of a credit note or a void


class InvoiceLine(Base):
    """One line of an invoice, rounded once; `source_account_id` is the (sub-)account whose
    charge it is, so a hierarchy invoice groups its lines by it.

    Lines and taxes have no foreign keys: a bill run copies a million of them, and a key per
    row cost more than the rows. Migration 0014's triggers hold the same references (an
    invoice of the same tenant, an existing source account, checked once per inserted
    statement on PostgreSQL) and refuse deleting an invoice or account they point at. A line
    is named by its invoice and position, with no id of its own (migration 0017)."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("line_key"),  # every key names a globally unique id
        # only lines of a subscription are looked up by it (not the usage lines' NULLs)
        Index(
            "ix_invoice_lines_subscription_id",
            "subscription_id",
            postgresql_where=text("subscription_id IS NOT NULL"),
            sqlite_where=text("subscription_id IS NOT NULL"),
        ),
    )

    invoice_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # from 1, in order
    tenant_id: Mapped[str] = mapped_column(String(36))  # the invoice's (see below)
    line_key: Mapped[str] = mapped_column(String(300))
    source_account_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(String(300))
    service_start: Mapped[date | None]
    service_end: Mapped[date | None]  # exclusive
    quantity: Mapped[Decimal] = mapped_column(Amount())
    unit_price: Mapped[Decimal | None] = mapped_column(Amount())
    amount: Mapped[Decimal] = mapped_column(Amount())
    subscription_id: Mapped[str | None] = mapped_column(String(36))
    charge: Mapped[str | None] = mapped_column(String(100))  # the plan charge's code
    usage_type: Mapped[str | None] = mapped_column(String(32))
    destination: Mapped[str | None] = mapped_column(String(200))
    tax_jurisdiction: Mapped[str | None] = mapped_column(String(103))  # CC-<region>
    # What produced it: the subscription change and price layer, or the usage aggregate
    # (rating run ids, records, billed and included seconds, tier table).
    lineage: Mapped[dict[str, Any]] = mapped_column(JSON)


class InvoicedUsageRun(Base):
    """A rating run whose records of one account a bill run has settled: invoiced (on
    `invoice_id`) or found owing nothing. When every run that may hold an account's usage of a
    rating period is settled, later runs do not read that period's records again (see
    `billing.service.due`); a re-rating is a new run, which unsettles the period.

    No foreign keys, as for lines: a run writes one row per account and rating run."""

    __tablename__ = "invoiced_usage_runs"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a rating run
    tenant_id: Mapped[str] = mapped_column(String(36))
    invoice_id: Mapped[str | None] = mapped_column(String(36))
    bill_run_id: Mapped[str | None] = mapped_column(String(36))


class InvoiceTax(Base):
    """One tax of an invoice: a rule applied to the lines of one jurisdiction, rounded once."""

    __tablename__ = "invoice_taxes"

    invoice_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))  # the invoice's
    jurisdiction: Mapped[str] = mapped_column(String(103))  # a line's
    name: Mapped[str] = mapped_column(String(100))
    rate: Mapped[Decimal] = mapped_column(Amount())  # percent
    taxable: Mapped[Decimal] = mapped_column(Amount())
    amount: Mapped[Decimal] = mapped_column(Amount())
    rule_id: Mapped[str | None] = mapped_column(String(36))


class InvoiceSequence(Base):
    """The next number of a tenant's series (a year, or ``""`` for a format without one).

    Issuing takes the row's lock, so numbers are given one transaction at a time; a rolled
    back transaction gives its numbers back with it, so the series has no gap.
    """

    __tablename__ = "invoice_sequences"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer)


class TaxRate(Base):
    """A percentage tax of a jurisdiction (``US-CA``, ``GB``, ``SG``): a tenant's rule, inherited
    by its brands, in force over ``[effective_from, effective_to)``."""

    __tablename__ = "tax_rates"
    __table_args__ = (Index("ix_tax_rates_tenant_id_jurisdiction", "tenant_id", "jurisdiction"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    rate: Mapped[Decimal] = mapped_column(Amount())  # percent, e.g. 20 for 20 %
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]
    created_at: Mapped[datetime]
