"""API shapes of rating: rating runs and rated usage (money in micro-units and as decimals)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from billstream.core.bounds import Day, Rate, Seconds
from billstream.core.decimals import PlainDecimal
from billstream.core.inputs import Input
from billstream.core.limits import MAX_USAGE_TOTAL


class RatingRunCreate(Input):
    """Rate a period (local days ``[period_start, period_end)``) for one account or all."""

    tenant_id: str | None = Field(default=None, description="Default: the caller's tenant")
    period_start: Day
    period_end: Day = Field(description="The first local day not rated")
    account_id: str | None = None
    rerate: bool = Field(
        default=False,
        description="Replace the period's current rated rows with a new version",
    )


class RoundingRuleCreate(Input):
    """A tenant's rounding of durations, inherited by its brands that have none; it replaces
    the rate card's increments. SPEC C6: ``free_below_s=30, first_s=60, next_s=30``."""

    tenant_id: str | None = Field(default=None, description="Default: the caller's tenant")
    usage_type: str | None = Field(default=None, description="Default: every usage type")
    free_below_s: Seconds = Field(default=0, description="Shorter calls are free")
    first_s: Seconds = Field(description="Calls up to this bill this")
    next_s: Annotated[Seconds, Field(ge=1)] = Field(
        description="Beyond, the rest rounds to steps of this"
    )
    mode: Literal["up", "nearest"] = "up"
    charge_attempts: bool = Field(default=False, description="0 s calls pay the connect fee")
    split_bands: bool = Field(
        default=False,
        description="Divide a call's billed seconds at the time-band boundaries it crosses, "
        "each part at its band's rate (docs/rating.md)",
    )
    effective_from: Day | None = Field(default=None, description="Local date; default today")


class RoundingRuleOut(BaseModel):
    id: str
    tenant_id: str
    usage_type: str | None
    free_below_s: int
    first_s: int
    next_s: int
    mode: str
    charge_attempts: bool
    split_bands: bool
    effective_from: datetime
    created_at: datetime

    model_config = ConfigDict(from_attributes=True)


class RatingRunOut(BaseModel):
    id: str
    tenant_id: str
    account_id: str | None
    period_start: datetime
    period_end: datetime
    version: int
    currency: str
    rated: int
    rejected: int
    superseded: int
    retail_micros: int
    cost_micros: int
    superseded_micros: int
    difference_micros: int = Field(description="retail_micros - superseded_micros")
    created_at: datetime


class RatedUsageOut(BaseModel):
    """One rated record and its lineage."""

    id: str
    run_id: str
    superseded_by: str | None
    tenant_id: str
    account_id: str
    record_key: str
    usage_type: str
    started_at: datetime
    duration_s: int
    quantity: int
    called: str | None
    carrier: str | None
    band: str
    rate_id: str | None
    card_version_id: str | None
    matched_prefix: str | None
    margin_rule_id: str | None = Field(
        description="Set when no rate applied and this margin rule priced the record from its cost"
    )
    first_increment_s: int | None
    next_increment_s: int | None
    rounding_rule_id: str | None = Field(
        description="The rounding rule whose increments billed the record (null: the rate's own)"
    )
    billed_s: int
    billed_units: int
    tier_set_id: str | None = Field(
        description="The tier set that priced the record on its account's period total"
    )
    split_s: int
    band_split: str | None
    allowance_s: int
    allowance_units: int
    currency: str
    amount_micros: int
    cost_rate_id: str | None
    cost_card_version_id: str | None
    cost_prefix: str | None
    cost_micros: int | None
    margin_micros: int | None
    reject_reason: str | None

    model_config = ConfigDict(from_attributes=True)


class TierIn(Input):
    from_quantity: int = Field(
        ge=0, le=MAX_USAGE_TOTAL, description="From this many billed seconds (units) on"
    )
    rate: Rate = Field(description="Per minute (time usage) or per unit, <= 6 places")


class TiersCreate(Input):
    """Graduated prices of a usage type on each account's period total (SPEC C6), for the
    tenant's accounts and its brands' that have no tiers of their own."""

    tenant_id: str | None = Field(default=None, description="Default: the caller's tenant")
    usage_type: str = Field(min_length=1, max_length=32)
    tiers: list[TierIn] = Field(min_length=1, max_length=100)
    effective_from: Day | None = Field(default=None, description="Local date; default today")


class TierOut(BaseModel):
    from_quantity: int
    rate_micros: int


class TierSetOut(BaseModel):
    set_id: str
    tenant_id: str
    usage_type: str
    effective_from: datetime
    tiers: list[TierOut]


class MarginRuleCreate(Input):
    """Retail = carrier cost + `percent` % for the records no customer special rate and no
    retail card rates (SPEC C6), for the tenant and its brands, which may override it."""

    tenant_id: str | None = Field(default=None, description="Default: the caller's tenant")
    percent: Decimal = Field(
        allow_inf_nan=False, description="Margin on cost: > -100, <= 10000, <= 4 places"
    )
    usage_type: str | None = Field(default=None, description="Default: every usage type")
    prefix: str | None = Field(
        default=None, description="Destination prefix (E.164 digits); the longest one wins"
    )
    min_margin: Rate | None = Field(
        default=None,
        description="At least this much over cost per minute (time usage) or unit, <= 6 places",
    )
    effective_from: Day | None = Field(default=None, description="Local date; default today")


class MarginRuleEnd(Input):
    """The end of a margin rule (of this usage type and prefix) from a date."""

    tenant_id: str | None = Field(default=None, description="Default: the caller's tenant")
    usage_type: str | None = Field(default=None, description="Default: the rule of every type")
    prefix: str | None = Field(default=None, description="Default: the rule of every prefix")
    effective_from: Day | None = Field(default=None, description="Local date; default today")


class MarginRuleOut(BaseModel):
    id: str
    tenant_id: str
    usage_type: str | None
    prefix: str | None
    percent: PlainDecimal | None = Field(description="None: the end of the rule before it")
    min_margin_micros: int | None
    effective_from: datetime
    created_at: datetime

    model_config = ConfigDict(from_attributes=True)


class CardRowError(BaseModel):
    line: int
    column: str
    reason: str


class CardImportOut(BaseModel):
    """A rate card import: the card, its new version, and the rows refused (the others are
    in force from the version's date)."""

    card_id: str
    version_id: str
    version: int
    rows: int
    imported: int
    errors: list[CardRowError]


class InForceOut(BaseModel):
    """A value in force for the tenant asked about on the day asked, and who set it."""

    source: str = Field(
        description="The tenant that set it: the tenant itself or an ancestor; "
        '"inherited" when that tenant is outside the key\'s scope'
    )
    effective_from: datetime = Field(description="In force from (the owner's local midnight)")
    valid_to: datetime | None = Field(description="Until (exclusive); null: no end set")


class RoundingRuleInForceOut(InForceOut):
    usage_type: str | None = Field(description="null: every usage type")
    rule_id: str
    free_below_s: int
    first_s: int
    next_s: int
    mode: str
    charge_attempts: bool
    split_bands: bool


class TierSetInForceOut(InForceOut):
    usage_type: str
    set_id: str
    tiers: list[TierOut]


class MarginRuleInForceOut(InForceOut):
    usage_type: str | None = Field(description="null: every usage type")
    prefix: str | None = Field(description="null: every destination")
    rule_id: str
    percent: PlainDecimal
    min_margin_micros: int | None
