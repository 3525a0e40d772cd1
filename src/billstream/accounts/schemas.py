"""API shapes of accounts and numbers. Inputs forbid unknown fields."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from billstream.accounts.models import AccountType, BillingCycle, BillingMode, InvoiceDelivery
from billstream.core.inputs import Input, Instant, unchanged_unless_sent


class Address(Input):
    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100, description="State or province")
    postcode: str | None = Field(default=None, max_length=20)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")


class AccountFields(Input):
    """Fields an account may change after creation."""

    external_id: str | None = Field(default=None, min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    type: AccountType = AccountType.CUSTOMER
    contact_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    billing_address: Address | None = None
    service_address: Address | None = None
    language: str | None = Field(default=None, description="Default: the tenant's locale")
    payment_terms_days: int = Field(default=30, ge=0, le=365, description="Net N days")
    billing_cycle: BillingCycle = BillingCycle.CALENDAR
    billing_day: int | None = Field(
        default=None, ge=1, le=31, description="Anniversary day; 29-31 clamp to month end"
    )
    invoice_delivery: InvoiceDelivery = InvoiceDelivery.EMAIL
    auto_pay: bool = False


class AccountCreate(AccountFields):
    tenant_id: str | None = Field(default=None, description="Default: the API key's tenant")
    parent_id: str | None = None
    billing_mode: BillingMode = BillingMode.SELF_PAYING
    currency: str | None = Field(
        default=None, description="Default: the payer's currency, else the tenant's"
    )


class AccountUpdate(Input):
    """A partial change: only the fields sent are changed; hierarchy changes use `move`."""

    external_id: str | None = Field(default=None, min_length=1, max_length=100)
    name: str = unchanged_unless_sent(min_length=1, max_length=200)
    type: AccountType = unchanged_unless_sent()
    contact_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    billing_address: Address | None = None
    service_address: Address | None = None
    language: str | None = None
    payment_terms_days: int = unchanged_unless_sent(ge=0, le=365)
    billing_cycle: BillingCycle = unchanged_unless_sent()
    billing_day: int | None = Field(default=None, ge=1, le=31)
    invoice_delivery: InvoiceDelivery = unchanged_unless_sent()
    auto_pay: bool = unchanged_unless_sent()


class AccountMove(Input):
    parent_id: str | None = Field(description="The new parent; null makes a top-level account")
    billing_mode: BillingMode | None = Field(default=None, description="Default: unchanged")


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    external_id: str | None
    name: str
    type: AccountType
    parent_id: str | None
    billing_mode: BillingMode
    contact_name: str | None
    email: str | None
    phone: str | None
    billing_address: Address | None
    service_address: Address | None
    currency: str
    language: str
    payment_terms_days: int
    billing_cycle: BillingCycle
    billing_day: int
    invoice_delivery: InvoiceDelivery
    auto_pay: bool
    created_at: datetime
    updated_at: datetime


class AccountDetail(AccountOut):
    paying_account_id: str = Field(description="Who pays this account's charges")


class AccountTreeNode(BaseModel):
    id: str
    name: str
    type: AccountType
    billing_mode: BillingMode
    paying_account_id: str
    children: list[AccountTreeNode]


class NumbersAdd(Input):
    tenant_id: str | None = Field(default=None, description="Default: the API key's tenant")
    numbers: list[str] = Field(min_length=1, max_length=10_000)
    default_region: str | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="For numbers without '+'; default: the tenant's locale territory",
    )


class NumberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    e164: str
    kind: str
    created_at: datetime


class AssignmentCreate(Input):
    account_id: str
    valid_from: Instant
    valid_to: Instant | None = None
    subscription_id: str | None = Field(default=None, max_length=36)


class NumberRelease(Input):
    at: Instant = Field(description="When the holder stops holding the number")


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    number_id: str
    account_id: str
    subscription_id: str | None
    valid_from: datetime
    valid_to: datetime | None


class LookupQuery(Input):
    number: str
    at: Instant


class LookupRequest(Input):
    queries: list[LookupQuery] = Field(min_length=1, max_length=10_000)


class LookupResult(BaseModel):
    number: str
    at: datetime
    account_id: str | None
    tenant_id: str | None
    assignment_id: str | None
    subscription_id: str | None
