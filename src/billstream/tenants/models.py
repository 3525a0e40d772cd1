from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from billstream.db import Base, TimestampMixin
from billstream.tenants.settings import Branding, TenantOverrides


class Tenant(TimestampMixin, Base):
    """A company using billstream. `parent_id` makes the tree; `None` columns inherit."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    currency: Mapped[str | None] = mapped_column(String(3))
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(32))
    invoice_prefix: Mapped[str | None] = mapped_column(String(32))
    invoice_format: Mapped[str | None] = mapped_column(String(100))
    line_precision: Mapped[int | None]
    proration_basis: Mapped[str | None] = mapped_column(String(16))

    brand_name: Mapped[str | None] = mapped_column(String(200))
    brand_address: Mapped[str | None] = mapped_column(String(1000))
    brand_logo_url: Mapped[str | None] = mapped_column(String(1000))
    brand_primary_color: Mapped[str | None] = mapped_column(String(7))
    brand_accent_color: Mapped[str | None] = mapped_column(String(7))
    brand_footer: Mapped[str | None] = mapped_column(String(1000))

    def overrides(self) -> TenantOverrides:
        return TenantOverrides(
            currency=self.currency,
            timezone=self.timezone,
            locale=self.locale,
            invoice_prefix=self.invoice_prefix,
            invoice_format=self.invoice_format,
            line_precision=self.line_precision,
            proration_basis=self.proration_basis,
            branding=Branding(
                name=self.brand_name,
                address=self.brand_address,
                logo_url=self.brand_logo_url,
                primary_color=self.brand_primary_color,
                accent_color=self.brand_accent_color,
                footer=self.brand_footer,
            ),
        )
