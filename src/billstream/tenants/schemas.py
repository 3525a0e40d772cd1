from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from billstream.core.inputs import Input, unchanged_unless_sent


class TenantSettingsIn(Input):
    """Settings a tenant overrides; a setting left out (or null) is inherited."""

    currency: str | None = Field(default=None, description="ISO 4217, e.g. USD")
    timezone: str | None = Field(default=None, description="IANA, e.g. Europe/London")
    locale: str | None = Field(default=None, description="e.g. en_GB")
    invoice_prefix: str | None = Field(default=None, max_length=32)
    invoice_format: str | None = Field(
        default=None,
        max_length=100,
        description="Uses {prefix}, {year}, {seq}, e.g. {prefix}{year}-{seq:06d}",
    )
    line_precision: int | None = Field(
        default=None, description="Places each line is rounded to; null: the currency's minor unit"
    )
    proration_basis: Literal["actual_days", "thirty_day_month"] | None = Field(
        default=None,
        description="Divide a partial period by its real length in days, or by a 30-day month",
    )
    brand_name: str | None = Field(default=None, max_length=200)
    brand_address: str | None = Field(default=None, max_length=1000)
    brand_logo_url: str | None = Field(default=None, max_length=1000)
    brand_primary_color: str | None = Field(default=None, description="#RRGGBB")
    brand_accent_color: str | None = Field(default=None, description="#RRGGBB")
    brand_footer: str | None = Field(default=None, max_length=1000)


class TenantCreate(TenantSettingsIn):
    parent_id: str = Field(description="The parent tenant (within the API key's scope)")
    slug: str = Field(min_length=1, max_length=63)
    name: str = Field(min_length=1, max_length=200)


class TenantUpdate(TenantSettingsIn):
    name: str = unchanged_unless_sent(min_length=1, max_length=200)


class BrandingOut(BaseModel):
    name: str | None
    address: str | None
    logo_url: str | None
    primary_color: str | None
    accent_color: str | None
    footer: str | None


class ResolvedSettingsOut(BaseModel):
    currency: str
    timezone: str
    locale: str
    invoice_prefix: str
    invoice_format: str
    line_precision: int | None
    proration_basis: str
    branding: BrandingOut
    sources: dict[str, str] = Field(description="Which tenant set each value (or default)")


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    parent_id: str | None
    slug: str
    name: str
    overrides: TenantSettingsIn
    settings: ResolvedSettingsOut
    created_at: datetime
    updated_at: datetime
