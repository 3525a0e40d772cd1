"""Settings inheritance down the tenant tree, as one pure function.

Each tenant stores only what it overrides (`TenantOverrides`, `None` = inherit). The
settings in force for a tenant are its ancestors' overrides applied from the root down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from billstream.tenants.invoice_numbers import parse_invoice_format

DEFAULT_INVOICE_FORMAT = "{prefix}{year}-{seq:06d}"


@dataclass(frozen=True, slots=True)
class Branding:
    name: str | None = None
    address: str | None = None
    logo_url: str | None = None
    primary_color: str | None = None
    accent_color: str | None = None
    footer: str | None = None


@dataclass(frozen=True, slots=True)
class TenantOverrides:
    """What one tenant sets itself. Every field `None` means: take the parent's."""

    currency: str | None = None
    timezone: str | None = None
    locale: str | None = None
    invoice_prefix: str | None = None
    invoice_format: str | None = None
    line_precision: int | None = None
    proration_basis: str | None = None
    branding: Branding = Branding()


@dataclass(frozen=True, slots=True)
class ResolvedSettings:
    """The settings in force for a tenant, every field known. `sources` says who set each."""

    currency: str
    timezone: str
    locale: str
    invoice_prefix: str
    invoice_format: str
    line_precision: int | None  # None: the currency's minor unit
    proration_basis: str  # "actual_days" (the real period length) or "thirty_day_month"
    branding: Branding
    sources: dict[str, str]


ROOT_DEFAULTS: dict[str, object] = {
    "timezone": "UTC",
    "locale": "en_US",
    "invoice_prefix": "INV-",
    "invoice_format": DEFAULT_INVOICE_FORMAT,
    "line_precision": None,
    "proration_basis": "actual_days",
}

_SCALARS = (
    "currency",
    "timezone",
    "locale",
    "invoice_prefix",
    "invoice_format",
    "line_precision",
    "proration_basis",
)


def resolve_settings(chain: Sequence[tuple[str, TenantOverrides]]) -> ResolvedSettings:
    """Resolve the settings of the last tenant of `chain` (root first, each `(id, overrides)`).

    A value set nearest to the tenant wins; what nobody sets comes from `ROOT_DEFAULTS`
    (source ``"default"``). Currency has no default: the root must set it.

    >>> root = ("t_root", TenantOverrides(currency="USD", timezone="America/New_York"))
    >>> brand = ("t_uk", TenantOverrides(currency="GBP"))
    >>> s = resolve_settings([root, brand])
    >>> (s.currency, s.timezone, s.sources["timezone"])
    ('GBP', 'America/New_York', 't_root')
    """
    if not chain:
        raise ValueError("resolve_settings needs at least one tenant")
    values: dict[str, object] = dict(ROOT_DEFAULTS)
    sources = {name: "default" for name in ROOT_DEFAULTS}
    brand_values: dict[str, str] = {}
    for tenant_id, overrides in chain:
        for name in _SCALARS:
            value = getattr(overrides, name)
            if value is not None:
                values[name] = value
                sources[name] = tenant_id
        for f in fields(Branding):
            value = getattr(overrides.branding, f.name)
            if value is not None:
                brand_values[f.name] = value
                sources[f"branding.{f.name}"] = tenant_id
    if "currency" not in values:
        raise ValueError(f"no tenant on the chain to {chain[-1][0]} sets a currency")
    return ResolvedSettings(
        currency=str(values["currency"]),
        timezone=str(values["timezone"]),
        locale=str(values["locale"]),
        invoice_prefix=str(values["invoice_prefix"]),
        invoice_format=str(values["invoice_format"]),
        line_precision=values["line_precision"]
        if isinstance(values["line_precision"], int)
        else None,
        proration_basis=str(values["proration_basis"]),
        branding=Branding(**brand_values),
        sources=sources,
    )


def format_invoice_number(settings: ResolvedSettings, *, year: int, seq: int) -> str:
    """The invoice number `seq` of `year` in this tenant's format, e.g. ``INV-2026-000042``.

    A stored format is parsed again (it may predate the grammar): one the grammar refuses is
    an `InvalidInputError` on invoice_format, never a number such as ``<class 'int'>``."""
    fmt = parse_invoice_format(settings.invoice_format)
    return fmt.number(prefix=settings.invoice_prefix, year=year, seq=seq)
