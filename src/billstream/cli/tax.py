"""`billstream tax set`: tax rates by jurisdiction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from billstream.cli.common import (
    TenantOption,
    console,
    decimal_option,
    fails_cleanly,
    target_tenant,
    unit_of_work,
)

commands = typer.Typer(help="Tax rates by jurisdiction.", no_args_is_help=True)


@commands.command("set")
@fails_cleanly
def tax_set(
    tenant: TenantOption,
    jurisdiction: Annotated[str, typer.Option(help="GB, US, US-CA…")],
    name: Annotated[str, typer.Option(help="e.g. VAT.")],
    rate: Annotated[str, typer.Option(help="Percent, e.g. 20.")],
    start: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day in force.")
    ],
) -> None:
    """Tax a jurisdiction at a percentage from a date (the previous rule ends that day)."""
    from billstream.billing.service import set_tax_rate

    with unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        rule = set_tax_rate(
            session,
            runtime.clock,
            ctx=target.ctx,
            jurisdiction=jurisdiction,
            name=name,
            rate=decimal_option(rate, option="rate"),
            effective_from=start.date(),
        )
        console().print(
            f"{rule.jurisdiction} {rule.name} {rule.rate.normalize():f}% from {rule.effective_from}"
        )
