"""Tables of rating: rate cards and their versions, rates, rating runs and rated usage, and
a tenant's rating rules (rounding rules, period tiers, margin rules).

Rates are never updated: a new import of a card is a new version, in force from its date
(the previous version ends there). Rated rows are never updated either, except to mark them
superseded by a later rating run of the same records (re-rating), so an invoice can always
show what was charged, what replaced it, and the difference.

The rating rules are data a tenant owns and versions by date, never updated in place: a
change is a new row in force from its `effective_from` until the next row of the same tenant
and usage type. A brand without its own rows uses its nearest ancestor's (see
`service.rules`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from billstream.db import Base, TimestampMixin
from billstream.db.types import Amount, UTCDateTime
from billstream.rating.kinds import CardKind as CardKind  # defined there, for the CLI

MAX_CARRIER_LENGTH = 100  # a rate card's carrier, as the usage names it


class RateCard(TimestampMixin, Base):
    """A named card of a tenant. A retail card with an `account_id` holds that customer's
    special rates; a cost card names its carrier (the usage's `carrier`) and may point at the
    carrier's vendor account."""

    __tablename__ = "rate_cards"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    carrier: Mapped[str | None] = mapped_column(String(MAX_CARRIER_LENGTH))


class RateCardVersion(Base):
    """One import of a card, in force over ``[effective_from, effective_to)``."""

    __tablename__ = "rate_card_versions"
    __table_args__ = (UniqueConstraint("card_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    card_id: Mapped[str] = mapped_column(ForeignKey("rate_cards.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(255))
    rates: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Rate(Base):
    """One destination of a card version. Money in micro-units (1e-6) of the card's currency:
    per minute for time usage, per unit otherwise. Written in bulk, never one by one.

    `effective_from` / `effective_to` (null: the version's own bounds) narrow the rate inside
    its version's window, half-open; the rater uses it only for records starting inside both.
    One (prefix, usage type, band) may have several rates in a version when their windows do
    not overlap (a price change on a date); the import refuses overlapping ones (no portable
    constraint says "no overlap": the unique key below only stops two starting together)."""

    __tablename__ = "rates"
    __table_args__ = (
        UniqueConstraint("version_id", "prefix", "usage_type", "band", "effective_from"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    version_id: Mapped[str] = mapped_column(
        ForeignKey("rate_card_versions.id", ondelete="RESTRICT")
    )
    prefix: Mapped[str] = mapped_column(String(15))
    description: Mapped[str] = mapped_column(String(200))
    usage_type: Mapped[str] = mapped_column(String(32))
    band: Mapped[str] = mapped_column(String(16))
    rate_micros: Mapped[int] = mapped_column(BigInteger)
    connect_fee_micros: Mapped[int] = mapped_column(BigInteger)
    min_duration_s: Mapped[int] = mapped_column(Integer)
    first_increment_s: Mapped[int] = mapped_column(Integer)
    next_increment_s: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RatingRun(Base):
    """One rating of a period for a tenant (one account or all): a rating version.

    `superseded_micros` is what the rows it replaced had charged, so the re-rating's
    difference is ``retail_micros - superseded_micros``.
    """

    __tablename__ = "rating_runs"
    __table_args__ = (Index(None, "tenant_id", "period_start"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    rated: Mapped[int] = mapped_column(BigInteger)
    rejected: Mapped[int] = mapped_column(BigInteger)
    superseded: Mapped[int] = mapped_column(BigInteger)
    retail_micros: Mapped[int] = mapped_column(BigInteger)
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    superseded_micros: Mapped[int] = mapped_column(BigInteger)
    parquet_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RatedUsage(Base):
    """One rated record of one rating run, with its lineage: the rate and card version (or
    the margin rule that priced it from its cost), matched prefix, band, increments, billed
    quantity, allowance consumed, and both the retail and the cost amount. Written in bulk
    (COPY on PostgreSQL), millions per run.

    Deliberately without foreign keys and with few indexes: on PostgreSQL each foreign key is a
    trigger run per copied row and each index a random insert per row, which together slow
    storing several times over (docs/performance.md). The only writer is `rate_period`,
    which inserts the rows in the same transaction as their run, for a tenant and run it has
    just checked. Rows are found by run (re-rating, run listings) and by account and time
    (invoices).
    """

    __tablename__ = "rated_usage"
    __table_args__ = (Index(None, "account_id", "started_at"), Index(None, "run_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36))
    superseded_by: Mapped[str | None] = mapped_column(String(36))
    tenant_id: Mapped[str] = mapped_column(String(36))
    account_id: Mapped[str] = mapped_column(String(36))
    record_key: Mapped[str] = mapped_column(String(160))
    usage_type: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_s: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    called: Mapped[str | None] = mapped_column(String(64))
    carrier: Mapped[str | None] = mapped_column(String(100))
    band: Mapped[str] = mapped_column(String(16))
    rate_id: Mapped[str | None] = mapped_column(String(36))
    card_version_id: Mapped[str | None] = mapped_column(String(36))
    matched_prefix: Mapped[str | None] = mapped_column(String(15))
    # set: no retail rate, the price is the cost marked up by this margin rule
    margin_rule_id: Mapped[str | None] = mapped_column(String(36))
    first_increment_s: Mapped[int | None] = mapped_column(Integer)
    next_increment_s: Mapped[int | None] = mapped_column(Integer)
    # the brand's rounding rule whose increments billed the record (null: the rate's own)
    rounding_rule_id: Mapped[str | None] = mapped_column(String(36))
    # the tier set that priced the record on its account's period total (null: none)
    tier_set_id: Mapped[str | None] = mapped_column(String(36))
    billed_s: Mapped[int] = mapped_column(BigInteger)
    billed_units: Mapped[int] = mapped_column(BigInteger)
    # a call split at band boundaries (`band_split`): billed seconds outside its start band,
    # and its parts as ``band:seconds:rate_id`` joined by ``;`` (null: not split)
    split_s: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    band_split: Mapped[str | None] = mapped_column(String(500))
    allowance_s: Mapped[int] = mapped_column(BigInteger)
    allowance_units: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    cost_rate_id: Mapped[str | None] = mapped_column(String(36))
    cost_card_version_id: Mapped[str | None] = mapped_column(String(36))
    cost_prefix: Mapped[str | None] = mapped_column(String(15))
    cost_micros: Mapped[int | None] = mapped_column(BigInteger)
    margin_micros: Mapped[int | None] = mapped_column(BigInteger)
    reject_reason: Mapped[str | None] = mapped_column(String(32))


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
