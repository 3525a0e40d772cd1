"""Tables of a tenant's rating rules, inherited by its brands: rounding rules, period tiers
and margin rules.

All are data a tenant owns and versions by date, never updated in place: a change is a new
row in force from its `effective_from` until the next row of the same tenant and usage type.
A brand without its own rows uses its nearest ancestor's (see `service.rules`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from billstream.db import Base
from billstream.db.types import Amount, UTCDateTime


class RatingRule(Base):
    """A brand's rounding of durations (`rater.RoundingRules`) for one usage type (null:
    all), from `effective_from` on. It replaces the rate card's increments."""

    __tablename__ = "rating_rules"
    __table_args__ = (Index(None, "tenant_id", "usage_type", "effective_from"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    usage_type: Mapped[str | None] = mapped_column(String(32))
    free_below_s: Mapped[int] = mapped_column(Integer)
    first_s: Mapped[int] = mapped_column(Integer)
    next_s: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    charge_attempts: Mapped[bool] = mapped_column(Boolean)
    # divide a call's billed seconds at the time-band boundaries it crosses (`band_split`)
    split_bands: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RatingTier(Base):
    """One tier of a tenant's graduated retail price of a usage type on each account's
    period total, from `effective_from` on: from `from_quantity` billed seconds (units) on,
    `rate_micros` per minute (per unit). The tiers of one set share `set_id`."""

    __tablename__ = "rating_tiers"
    __table_args__ = (Index(None, "tenant_id", "usage_type", "effective_from"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    set_id: Mapped[str] = mapped_column(String(36))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    usage_type: Mapped[str] = mapped_column(String(32))
    from_quantity: Mapped[int] = mapped_column(BigInteger)
    rate_micros: Mapped[int] = mapped_column(BigInteger)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MarginRule(Base):
    """A tenant's retail price of records its cards leave without a rate: their carrier cost
    plus `percent` (exact, at most 4 places), at least cost + `min_margin_micros` per minute
    (per unit), for one usage type and destination prefix (null: all), from `effective_from`
    on (see `margin_pricing`). A rule is in force until the next rule of the same tenant,
    usage type and prefix starts; a row without a percent is no rule, the end of the one
    before it (migration 0018)."""

    __tablename__ = "margin_rules"
    __table_args__ = (Index(None, "tenant_id", "usage_type", "prefix", "effective_from"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    usage_type: Mapped[str | None] = mapped_column(String(32))
    prefix: Mapped[str | None] = mapped_column(String(15))
    percent: Mapped[Decimal | None] = mapped_column(Amount())  # None: an end
    min_margin_micros: Mapped[int | None] = mapped_column(BigInteger)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
