from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billstream.accounts.kinds import AccountType as AccountType
from billstream.accounts.kinds import BillingCycle as BillingCycle
from billstream.accounts.kinds import BillingMode as BillingMode
from billstream.accounts.kinds import InvoiceDelivery as InvoiceDelivery
from billstream.db import Base, TimestampMixin


class Account(TimestampMixin, Base):
    """A party that is billed, bills, both, or neither (a department billed through its parent)."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    billing_mode: Mapped[str] = mapped_column(String(20))

    contact_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(16))
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    service_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    currency: Mapped[str] = mapped_column(String(3))
    language: Mapped[str] = mapped_column(String(32))
    payment_terms_days: Mapped[int]
    billing_cycle: Mapped[str] = mapped_column(String(16))
    billing_day: Mapped[int]
    invoice_delivery: Mapped[str] = mapped_column(String(16))
    auto_pay: Mapped[bool]

    @property
    def self_paying(self) -> bool:
        return self.billing_mode == BillingMode.SELF_PAYING


class PhoneNumber(TimestampMixin, Base):
    """A number of the tenant's inventory (DID, toll-free, mobile), stored in E.164."""

    __tablename__ = "phone_numbers"
    __table_args__ = (UniqueConstraint("tenant_id", "e164"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    e164: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(16))


class NumberAssignment(Base):
    """A number held by an account for the half-open period ``[valid_from, valid_to)``."""

    __tablename__ = "number_assignments"
    __table_args__ = (
        Index("ix_number_assignments_number_id_valid_from", "number_id", "valid_from"),
        Index("ix_number_assignments_tenant_id_valid_from", "tenant_id", "valid_from"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    number_id: Mapped[str] = mapped_column(ForeignKey("phone_numbers.id", ondelete="RESTRICT"))
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    # The subscription using the number; subscriptions arrive with the catalogue issue.
    subscription_id: Mapped[str | None] = mapped_column(String(36))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    created_at: Mapped[datetime]
