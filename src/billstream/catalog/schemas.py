"""API shapes of the catalogue. Amounts are decimal strings in JSON, never floats."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from billstream.catalog.adjustments import Adjustment
from billstream.catalog.kinds import Outcome
from billstream.catalog.layers import PriceLayer
from billstream.catalog.models import ChargeTiming, ProductKind
from billstream.catalog.price_models import PriceModel
from billstream.core.decimals import PlainDecimal
from billstream.core.periods import Cadence

OWNER = "The owning tenant; null when it is an ancestor outside the API key's scope"


class ProductOut(BaseModel):
    id: str
    tenant_id: str | None = Field(description=OWNER)
    code: str
    name: str
    kind: ProductKind
    characteristics: dict[str, Any]
    sellable_from: date | None
    sellable_to: date | None = Field(description="The last day it can be sold (inclusive)")
    created_at: datetime
    updated_at: datetime


class ChargeOut(BaseModel):
    id: str
    code: str
    name: str
    product_id: str
    timing: ChargeTiming
    cadence: Cadence
    addon: bool


class PlanOut(BaseModel):
    id: str
    tenant_id: str | None = Field(description=OWNER)
    code: str
    name: str
    currencies: list[str]
    sellable_from: date | None
    sellable_to: date | None = Field(description="The last day it can be sold (inclusive)")
    trial_days: int
    commitment_months: int
    setup_fee: dict[str, PlainDecimal] = Field(description="Per currency")
    early_termination_fee: dict[str, PlainDecimal] = Field(description="Per currency")
    included: dict[str, PlainDecimal] = Field(
        description="Included each period, e.g. voice_minutes"
    )
    charges: list[ChargeOut]
    created_at: datetime
    updated_at: datetime


class PriceOut(BaseModel):
    id: str
    tenant_id: str | None = Field(description="Whose price it is (null: an ancestor's)")
    layer: PriceLayer
    product_id: str
    plan_id: str | None
    charge_id: str | None
    account_id: str | None
    commitment: bool = Field(description="Applies while a subscription is in its commitment")
    currency: str
    effective_from: date = Field(description="In force from this day until a later version")
    model: PriceModel
    adjustments: list[Adjustment]
    created_at: datetime


class AppliedItemOut(BaseModel):
    kind: str
    key: str
    outcome: Outcome


class ApplyOut(BaseModel):
    tenant_id: str
    created: int
    changed: int
    unchanged: int
    items: list[AppliedItemOut]
