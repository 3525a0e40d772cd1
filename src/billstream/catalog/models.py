"""Catalogue tables. Prices are never updated in place: a change is a new version row."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billstream.catalog.kinds import ChargeTiming as ChargeTiming
from billstream.catalog.kinds import ProductKind as ProductKind
from billstream.db import Base, TimestampMixin


class Product(TimestampMixin, Base):
    """An item of a tenant's catalogue, usable by the tenant and all its descendants."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    characteristics: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Sellable on days sellable_from..sellable_to, both inclusive; None: no limit.
    sellable_from: Mapped[date | None]
    sellable_to: Mapped[date | None]


class Plan(TimestampMixin, Base):
    """An offer bundling products as charges, with its terms.

    Fees are per currency (``{"USD": "25.00"}``) and included quantities per usage kind
    (``{"voice_minutes": "500"}``), both as JSON with decimal strings, never floats.
    """

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    currencies: Mapped[list[str]] = mapped_column(JSON)
    sellable_from: Mapped[date | None]
    sellable_to: Mapped[date | None]
    trial_days: Mapped[int]
    commitment_months: Mapped[int]
    early_termination_fees: Mapped[dict[str, str]] = mapped_column(JSON)
    setup_fees: Mapped[dict[str, str]] = mapped_column(JSON)
    included: Mapped[dict[str, str]] = mapped_column(JSON)


class PlanCharge(TimestampMixin, Base):
    """One product of a plan, charged in advance or in arrears at a cadence."""

    __tablename__ = "plan_charges"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"))
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    timing: Mapped[str] = mapped_column(String(16))
    cadence: Mapped[str] = mapped_column(String(16))
    addon: Mapped[bool]


class Price(Base):
    """One version of a price, in force from `effective_from` until a later version of its
    series starts. Never updated: a change is a new row.

    `series` names what the price is for (layer, owner, product, plan charge, account,
    commitment, currency), so one series holds one version per date.
    `tenant_id` is the tenant the price belongs to: the catalogue owner (default), the
    plan's owner (plan), the brand (brand), the account's tenant (customer).
    """

    __tablename__ = "prices"
    __table_args__ = (
        UniqueConstraint("series", "effective_from"),
        Index("ix_prices_product_id_layer", "product_id", "layer"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    series: Mapped[str] = mapped_column(String(300))
    layer: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    plan_id: Mapped[str | None] = mapped_column(
        ForeignKey("plans.id", ondelete="RESTRICT"), index=True
    )
    charge_id: Mapped[str | None] = mapped_column(
        ForeignKey("plan_charges.id", ondelete="RESTRICT")
    )
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    commitment: Mapped[bool]
    currency: Mapped[str] = mapped_column(String(3))
    effective_from: Mapped[date]
    model: Mapped[dict[str, Any]] = mapped_column(JSON)
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime]
