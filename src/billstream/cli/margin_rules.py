"""`billstream ratecard margin-rule|margin-rule-end|margin-rules`: price usage at its carrier
cost plus a margin. (The `ratecard` group in `ratecards` registers these commands.)"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from billstream.cli.common import (
    Target,
    TenantOption,
    console,
    day_of,
    decimal_option,
    fails_cleanly,
    micros,
    target_tenant,
    unit_of_work,
)
from billstream.core.errors import InvalidInputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

RuleFrom = Annotated[
    datetime | None,
    typer.Option(
        "--from", "--effective-from", formats=["%Y-%m-%d"], help="Local date; default today."
    ),
]


def margin_rules_table(session: Session, target: Target) -> Table:
    from billstream.rating.service import list_margin_rules

    table = Table(
        *("usage", "prefix", "from", "percent", "min margin", "rule"),
        title=f"Margin rules of {target.tenant.slug}",
    )
    for rule in list_margin_rules(session, ctx=target.ctx):
        minimum = rule.min_margin_micros
        table.add_row(
            rule.usage_type or "all",
            rule.prefix or "all",
            f"{rule.effective_from:%Y-%m-%d %H:%M %Z}",
            "ended" if rule.percent is None else f"{rule.percent.normalize():f}",
            "-" if minimum is None else f"{micros(minimum).normalize():f}",
            rule.id,
        )
    return table


@fails_cleanly
def ratecard_margin_rule(
    tenant: TenantOption,
    percent: Annotated[str, typer.Option(help="Margin on carrier cost in percent, e.g. 12.5.")],
    prefix: Annotated[
        str | None, typer.Option(help="Only destinations with this prefix, e.g. 44.")
    ] = None,
    usage_type: Annotated[str | None, typer.Option(help="Default: every usage type.")] = None,
    min_margin: Annotated[
        str | None, typer.Option(help="At least this over cost per minute (unit), e.g. 0.002.")
    ] = None,
    start: RuleFrom = None,
) -> None:
    """Price the usage no special rate and no retail card rates at its carrier cost plus a
    percentage (its brands inherit the rule), then list the tenant's own margin rules."""
    from billstream.core.money import to_micros
    from billstream.rating.service import set_margin_rule

    margin = decimal_option(percent, option="percent")
    minimum: int | None = None
    if min_margin is not None:
        try:
            minimum = to_micros(decimal_option(min_margin, option="min-margin"))
        except ValueError:
            raise InvalidInputError(
                "a minimum margin has at most 6 decimal places", field="min-margin"
            ) from None
    with unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        set_margin_rule(
            session,
            clock=runtime.clock,
            ctx=target.ctx,
            percent=margin,
            usage_type=usage_type,
            prefix=prefix,
            min_margin_micros=minimum,
            effective_from=day_of(start),
        )
        table = margin_rules_table(session, target)
    console().print(table)


@fails_cleanly
def ratecard_margin_rule_end(
    tenant: TenantOption,
    prefix: Annotated[str | None, typer.Option(help="The rule of this prefix.")] = None,
    usage_type: Annotated[str | None, typer.Option(help="The rule of this usage type.")] = None,
    start: RuleFrom = None,
) -> None:
    """End a margin rule from a date (usage from then on falls to the next rule that matches
    it, or none), then list the tenant's own margin rules."""
    from billstream.rating.service import end_margin_rule

    with unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        end_margin_rule(
            session,
            clock=runtime.clock,
            ctx=target.ctx,
            usage_type=usage_type,
            prefix=prefix,
            effective_from=day_of(start),
        )
        table = margin_rules_table(session, target)
    console().print(table)


@fails_cleanly
def ratecard_margin_rules(tenant: TenantOption) -> None:
    """List a tenant's own margin rules (its brands inherit them)."""
    with unit_of_work() as (_runtime, session):
        table = margin_rules_table(session, target_tenant(session, tenant))
    console().print(table)
