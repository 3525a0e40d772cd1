"""Subscription tables. The changes are the truth: billing rebuilds the timeline from them.

The subscription row holds the order's terms (start, anchor, trial and commitment ends) and a
snapshot of its state as of the last change recorded (status, plan, quantity, cancellation
date) for lists and filters; nothing that billing reads is updated in place.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billstream.db import Base, TimestampMixin
from billstream.db.types import Amount


class Subscription(TimestampMixin, Base):
    """An account's subscription to a plan, created from an order."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[Decimal] = mapped_column(Amount())
    start_date: Mapped[date]  # local date in the account's tenant time zone
    billing_anchor: Mapped[date]  # the first day of one billing period of the cycle
    trial_end: Mapped[date | None]  # the first day after the trial
    commitment_end: Mapped[date | None]  # the first day after the commitment
    cancelled_at: Mapped[date | None]  # the first day without service, once cancelled


class SubscriptionChange(Base):
    """One change of a subscription: what, from when, requested how, by whom and why."""

    __tablename__ = "subscription_changes"
    __table_args__ = (
        UniqueConstraint("subscription_id", "seq"),
        Index("ix_subscription_changes_subscription_id_effective", "subscription_id", "effective"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="RESTRICT")
    )
    seq: Mapped[int]  # the order of recording within the subscription, from 1
    kind: Mapped[str] = mapped_column(String(16))
    effective: Mapped[date]  # local date the change takes effect
    timing: Mapped[str] = mapped_column(String(16))  # how it was asked: now|period_end|date
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(100))  # an API key id, or "cli"
    reason: Mapped[str | None] = mapped_column(String(500))
    recorded_at: Mapped[datetime]
