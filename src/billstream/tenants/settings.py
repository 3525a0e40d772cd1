"""Settings inheritance down the tenant tree: one kind of inherited configuration.

Each tenant stores only what it overrides (`TenantOverrides`, `None` = inherit). Each field
is a key of the resolver of inherited configuration (`tenants.inheritance`), without dates:
the nearest tenant up the chain that sets it wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from billstream.tenants.inheritance import Version, in_force
from billstream.tenants.invoice_numbers import parse_invoice_format
from billstream.tenants.tree import TenantTree

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


def settings_versions(overrides: Mapping[str, TenantOverrides]) -> list[Version[str, object]]:
    """What each tenant sets, as versions of settings: a field a key (branding fields as
    ``branding.<field>``), no dates; a field left `None` is no version (it inherits)."""
    versions: list[Version[str, object]] = []
    for tenant_id, own in overrides.items():
        versions += [
            Version(tenant_id, name, getattr(own, name))
            for name in _SCALARS
            if getattr(own, name) is not None
        ]
        versions += [
            Version(tenant_id, f"branding.{f.name}", getattr(own.branding, f.name))
            for f in fields(Branding)
            if getattr(own.branding, f.name) is not None
        ]
    return versions


def settings_in_force(
    tree: TenantTree, overrides: Mapping[str, TenantOverrides], tenant_id: str
) -> ResolvedSettings:
    """The settings of `tenant_id`, from the overrides of the tenants of its chain in `tree`.

    A value set nearest to the tenant wins; what nobody sets comes from `ROOT_DEFAULTS`
    (source ``"default"``). Currency has no default: the root must set it.

    >>> tree = TenantTree.of([("t_root", None), ("t_uk", "t_root")])
    >>> own = {"t_root": TenantOverrides(currency="USD", timezone="America/New_York"),
    ...        "t_uk": TenantOverrides(currency="GBP")}
    >>> s = settings_in_force(tree, own, "t_uk")
    >>> (s.currency, s.timezone, s.sources["currency"], s.sources["locale"])
    ('GBP', 'America/New_York', 't_uk', 'default')
    """
    return _settings_of(tree, settings_versions(overrides), tenant_id)


def settings_in_force_of_all(
    tree: TenantTree, overrides: Mapping[str, TenantOverrides]
) -> dict[str, ResolvedSettings]:
    """`settings_in_force` for every tenant of `overrides` (which holds their chains)."""
    versions = settings_versions(overrides)
    return {tenant_id: _settings_of(tree, versions, tenant_id) for tenant_id in overrides}


def _settings_of(
    tree: TenantTree, versions: Sequence[Version[str, object]], tenant_id: str
) -> ResolvedSettings:
    values: dict[str, object] = dict(ROOT_DEFAULTS)
    sources = {name: "default" for name in ROOT_DEFAULTS}
    for name, resolved in in_force(tree, versions, tenant_id).items():
        values[name], sources[name] = resolved.value, resolved.source
    if "currency" not in values:
        raise ValueError(f"no tenant on the chain to {tenant_id} sets a currency")
    brand = {name.removeprefix("branding."): str(v) for name, v in values.items()
             if name.startswith("branding.")}  # fmt: skip
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
        branding=Branding(**brand),
        sources=sources,
    )


def resolve_settings(chain: Sequence[tuple[str, TenantOverrides]]) -> ResolvedSettings:
    """Resolve the settings of the last tenant of `chain` (root first, each `(id, overrides)`);
    see `settings_in_force`.

    >>> root = ("t_root", TenantOverrides(currency="USD", timezone="America/New_York"))
    >>> brand = ("t_uk", TenantOverrides(currency="GBP"))
    >>> s = resolve_settings([root, brand])
    >>> (s.currency, s.timezone, s.sources["timezone"])
    ('GBP', 'America/New_York', 't_root')
    """
    if not chain:
        raise ValueError("resolve_settings needs at least one tenant")
    tree = TenantTree.of_chain(tenant_id for tenant_id, _ in chain)
    return settings_in_force(tree, dict(chain), chain[-1][0])


def format_invoice_number(settings: ResolvedSettings, *, year: int, seq: int) -> str:
    """The invoice number `seq` of `year` in this tenant's format, e.g. ``INV-2026-000042``.

    A stored format is parsed again (it may predate the grammar): one the grammar refuses is
    an `InvalidInputError` on invoice_format, never a number such as ``<class 'int'>``."""
    fmt = parse_invoice_format(settings.invoice_format)
    return fmt.number(prefix=settings.invoice_prefix, year=year, seq=seq)
