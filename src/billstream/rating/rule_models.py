"""Tables of a tenant's rating rules, inherited by its brands: rounding rules and period tiers.

Both are data a tenant owns and versions by date, never updated in place: a change is a new
row in force from its `effective_from` until the next row of the same tenant and usage type.
A brand without its own rows uses its nearest ancestor's (see `service.rules`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from billstream.db import Base
from billstream.db.types import UTCDateTime


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
