"""`billstream tenant`: create tenants, list them with the settings in force."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from billstream.cli.common import console, fails_cleanly, target_tenant, unit_of_work

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
