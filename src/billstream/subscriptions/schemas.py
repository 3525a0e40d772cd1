"""API shapes of subscriptions, their changes and the upcoming-charges preview."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from billstream.core.bounds import Day, Quantity
from billstream.core.decimals import PlainDecimal
from billstream.core.inputs import Input
from billstream.subscriptions.lifecycle import ChangeKind, ChangeTiming, SubscriptionStatus


class SubscriptionCreate(Input):
    """An order: an account subscribes to a plan."""

    account_id: str
    plan: str = Field(min_length=1, max_length=64, description="The plan's id or code")
    quantity: Quantity = Decimal(1)
    start_date: Day | None = Field(
        default=None, description="Local date in the tenant's time zone; default: today"
    )
    end_date: Day | None = Field(
        default=None, description="A fixed term: the subscription expires on this date"
    )
    external_id: str | None = Field(default=None, min_length=1, max_length=100)
    currency: str | None = Field(default=None, description="Default: the account's currency")
    reason: str | None = Field(default=None, max_length=500)


class ChangeCreate(Input):
    """A change, effective now, at the end of the current billing period, or on a date."""

    kind: Literal[
        ChangeKind.QUANTITY,
        ChangeKind.PLAN,
        ChangeKind.SUSPEND,
        ChangeKind.RESUME,
        ChangeKind.CANCEL,
    ]
    model_config = ConfigDict(populate_by_name=True)

    effective: ChangeTiming = ChangeTiming.NOW
    day: Day | None = Field(
        default=None, alias="date", description="With effective=date: the local date"
    )
    quantity: Quantity | None = Field(default=None, description="kind=quantity: the new total")
    plan: str | None = Field(default=None, min_length=1, max_length=64, description="kind=plan")
    reason: str = Field(min_length=1, max_length=500, description="Why: kept with the change")


class SubscriptionOut(BaseModel):
    """A subscription; `status`, `plan_id` and `quantity` are those in force today."""

    id: str
    tenant_id: str
    account_id: str
    plan_id: str
    external_id: str | None
    status: SubscriptionStatus
    currency: str
    quantity: PlainDecimal
    start_date: date
    billing_anchor: date
    trial_end: date | None
    commitment_end: date | None
    cancelled_at: date | None
    created_at: datetime
    updated_at: datetime


class ChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    subscription_id: str
    seq: int
    kind: ChangeKind
    effective: date
    timing: ChangeTiming
    before: dict[str, Any]
    after: dict[str, Any]
    actor: str
    reason: str | None
    recorded_at: datetime


class ChargeLineOut(BaseModel):
    subscription_id: str
    kind: str = Field(description="recurring, credit, one_time, setup_fee, early_termination_fee")
    charge: str
    description: str
    timing: str
    period_start: date
    period_end: date = Field(description="The first day of the next period (half-open)")
    start: date
    end: date = Field(description="The first day not charged by this line (half-open)")
    days: int
    period_days: int
    quantity: PlainDecimal
    fraction: str = Field(description="days / period_days, e.g. 16/31")
    unit_price: PlainDecimal
    layer: str | None
    amount: PlainDecimal
    currency: str
    source: str = Field(description="The subscription change or price version behind it")


class PeriodTotalOut(BaseModel):
    currency: str
    period_start: date
    period_end: date
    amount: PlainDecimal


class CurrencyTotalOut(BaseModel):
    currency: str
    amount: PlainDecimal


class UpcomingChargesOut(BaseModel):
    account_id: str
    until: date
    lines: list[ChargeLineOut]
    period_totals: list[PeriodTotalOut]
    totals: list[CurrencyTotalOut]
