"""`billstream tenant`: create tenants, list them with the settings in force, show the
configuration in force for one and who set it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from billstream.cli.common import (
    console,
    day_of,
    fails_cleanly,
    micros,
    target_tenant,
    unit_of_work,
)

if TYPE_CHECKING:
    from billstream.rating.allowances import Tier
    from billstream.tenants.inheritance import Resolved

commands = typer.Typer(help="Tenants: the parent company and its brands.", no_args_is_help=True)


@commands.command("create")
@fails_cleanly
def tenant_create(
    slug: Annotated[str, typer.Argument(help="Short unique name, e.g. northwind-uk.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    parent: Annotated[str | None, typer.Option(help="Parent tenant (slug or id).")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217, e.g. USD.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA, e.g. Europe/London.")] = None,
    locale: Annotated[str | None, typer.Option(help="e.g. en_GB.")] = None,
    invoice_prefix: Annotated[str | None, typer.Option(help="e.g. INV-.")] = None,
    invoice_format: Annotated[str | None, typer.Option(help="{prefix}, {year}, {seq}.")] = None,
    line_precision: Annotated[int | None, typer.Option(help="Places per line.")] = None,
    proration_basis: Annotated[
        str | None, typer.Option(help="actual_days (default) or thirty_day_month.")
    ] = None,
    brand_name: Annotated[str | None, typer.Option()] = None,
    brand_address: Annotated[str | None, typer.Option()] = None,
    brand_logo_url: Annotated[str | None, typer.Option()] = None,
    brand_primary_color: Annotated[str | None, typer.Option(help="#RRGGBB.")] = None,
    brand_accent_color: Annotated[str | None, typer.Option(help="#RRGGBB.")] = None,
    brand_footer: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a tenant; settings left out are inherited from the parent."""
    from billstream.tenants.service import create_tenant, resolved_settings

    overrides = {
        "currency": currency,
        "timezone": timezone,
        "locale": locale,
        "invoice_prefix": invoice_prefix,
        "invoice_format": invoice_format,
        "line_precision": line_precision,
        "proration_basis": proration_basis,
        "brand_name": brand_name,
        "brand_address": brand_address,
        "brand_logo_url": brand_logo_url,
        "brand_primary_color": brand_primary_color,
        "brand_accent_color": brand_accent_color,
        "brand_footer": brand_footer,
    }
    with unit_of_work() as (runtime, session):
        parent_id = target_tenant(session, parent, option="parent").tenant.id if parent else None
        tenant = create_tenant(
            session,
            clock=runtime.clock,
            slug=slug,
            name=name,
            parent_id=parent_id,
            settings={k: v for k, v in overrides.items() if v is not None},
        )
        settings = resolved_settings(session, tenant.id)
    console().print(
        f"created tenant {tenant.slug} ({tenant.id}): {settings.currency}, "
        f"{settings.timezone}, {settings.locale}",
        markup=False,
        highlight=False,
    )


@commands.command("list")
@fails_cleanly
def tenant_list() -> None:
    """List every tenant with the settings in force for it."""
    from billstream.tenants.service import all_tenants, settings_of_tenants

    table = Table("slug", "name", "parent", "currency", "time zone", "locale", "id")
    with unit_of_work() as (_runtime, session):
        tenants = all_tenants(session)
        slug_of = {t.id: t.slug for t in tenants}
        settings_of = settings_of_tenants(tenants)  # every tenant: every chain is loaded
        for tenant in tenants:
            settings = settings_of[tenant.id]
            parent = slug_of.get(tenant.parent_id, "") if tenant.parent_id else ""
            table.add_row(
                tenant.slug,
                tenant.name,
                parent,
                settings.currency,
                settings.timezone,
                settings.locale,
                tenant.id,
            )
    console().print(table)


@commands.command("config")
@fails_cleanly
def tenant_config(
    tenant: Annotated[str, typer.Argument(help="The tenant (slug or id).")],
    on: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="The tenant's local date; default today."),
    ] = None,
) -> None:
    """Show the rating rules and tax rules in force for a tenant on a day, and who set them:
    the tenant itself or the nearest ancestor that has one."""
    from billstream.billing.service import tax_rates_on
    from billstream.rating.service import margin_rules_on, rounding_rules_on, tier_sets_on
    from billstream.tenants.service import ancestor_chain, every_tenant_scope, load_context

    day = day_of(on)
    with unit_of_work() as (runtime, session):
        tenant_id = target_tenant(session, tenant).tenant.id
        # an operator sees every source: a scope of every tenant masks none
        ctx = load_context(session, scope=every_tenant_scope(session), tenant_id=tenant_id)
        slug = {t.id: t.slug for t in ancestor_chain(session, tenant_id)}
        found: dict[str, list[tuple[str, str, Resolved[Any, Any]]]] = {
            "Rounding rules": [
                (r.key or "all", f"{r.value.first_s}/{r.value.next_s}", r)
                for r in rounding_rules_on(session, clock=runtime.clock, ctx=ctx, on=day)
            ],
            "Tiers": [
                (r.key, _tiers(r.value.tiers), r)
                for r in tier_sets_on(session, clock=runtime.clock, ctx=ctx, on=day)
            ],
            "Margin rules": [
                (f"{r.key[0] or 'all'} {r.key[1] or 'all'}", _percent(r.value.percent), r)
                for r in margin_rules_on(session, clock=runtime.clock, ctx=ctx, on=day)
            ],
            "Tax rules": [
                (f"{r.key[0]} {r.key[1]}", f"{r.value.rate.normalize():f} %", r)
                for r in tax_rates_on(session, clock=runtime.clock, ctx=ctx, on=day)
            ],
        }
    for title, rows in found.items():
        table = Table("key", "value", "set by", "from", "to", title=title)
        for key, value, r in rows:
            table.add_row(key, value, slug.get(r.source, r.source),
                          _day(r.effective_from), _day(r.valid_to))  # fmt: skip
        console().print(table)


def _tiers(tiers: Sequence[Tier]) -> str:
    return ", ".join(f"{t.from_quantity}+: {micros(t.rate_micros).normalize():f}" for t in tiers)


def _percent(percent: Decimal | None) -> str:
    return f"{Decimal(percent or 0).normalize():f} %"


def _day(bound: date | None) -> str:
    """A window bound: a date, or an instant as its date and time in its zone; "-": none."""
    if bound is None:
        return "-"
    return f"{bound:%Y-%m-%d %H:%M %Z}" if isinstance(bound, datetime) else f"{bound:%Y-%m-%d}"
