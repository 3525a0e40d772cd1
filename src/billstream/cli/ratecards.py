"""`billstream ratecard`: import rate cards; set a tenant's rounding rules, usage tiers and
margin rules (in `margin_rules`), each then listed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from billstream.cli import margin_rules
from billstream.cli.common import (
    EffectiveFrom,
    console,
    csv_rows,
    day_of,
    fails_cleanly,
    micros,
    target_tenant,
    unit_of_work,
)
from billstream.core.errors import InvalidInputError
from billstream.rating.kinds import CardKind, RoundingMode

if TYPE_CHECKING:
    from billstream.rating.allowances import Tier

commands = typer.Typer(help="Rate cards for rating usage.", no_args_is_help=True)
InheritingTenant = Annotated[str, typer.Option(help="The tenant (slug or id); its brands inherit.")]


@commands.command("import")
@fails_cleanly
def ratecard_import(
    file: Annotated[Path, typer.Argument(help="CSV rate card (see docs/rating.md).")],
    tenant: Annotated[str, typer.Option(help="The card's tenant (slug or id).")],
    name: Annotated[str, typer.Option(help="The card's name; the same name is a new version.")],
    kind: Annotated[CardKind, typer.Option(help="retail (customers) or cost (a carrier).")],
    effective_from: EffectiveFrom = None,
    currency: Annotated[str | None, typer.Option(help="Default: the tenant's.")] = None,
    account: Annotated[
        str | None, typer.Option(help="Retail: the customer of special rates. Cost: the vendor.")
    ] = None,
    carrier: Annotated[str | None, typer.Option(help="Cost: the usage's carrier name.")] = None,
) -> None:
    """Import a rate card CSV as a new version; bad rows are listed by line and column and
    the rest are imported. Exit 1 when no row could be imported, or when rows of one prefix,
    usage type and band overlap in time (then nothing is imported)."""
    from billstream.accounts.service import find_account
    from billstream.rating.service import import_rate_card

    with csv_rows(file) as rows, unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        report = import_rate_card(
            session,
            clock=runtime.clock,
            ctx=target.ctx,
            name=name,
            kind=kind,
            rows=rows,
            source=file.name,
            effective_from=day_of(effective_from),
            currency=currency,
            account_id=find_account(session, account).id if account else None,
            carrier=carrier,
        )
    out = console()
    summary = Table("card", "version", "rows", "imported", "rejected", title="Rate card import")
    version = str(report.version) if report.version else "-"
    counts = (report.rows, report.imported, len(report.errors))
    summary.add_row(name, version, *(str(n) for n in counts))
    out.print(summary)
    if report.errors:
        rejects = Table("line", "column", "reason", title="Rejected rows")
        for error in report.errors:
            rejects.add_row(str(error.line), error.column, error.reason)
        out.print(rejects)
    if not report.imported:
        raise InvalidInputError("no row could be imported", field=str(file))


@commands.command("rules")
@fails_cleanly
def ratecard_rules(
    tenant: InheritingTenant,
    first: Annotated[int, typer.Option(min=0, help="Calls up to this many seconds bill it.")],
    next_: Annotated[int, typer.Option("--next", min=1, help="Then steps of this many seconds.")],
    free_below: Annotated[int, typer.Option(min=0, help="Shorter calls are free.")] = 0,
    usage_type: Annotated[str | None, typer.Option(help="Default: every usage type.")] = None,
    mode: Annotated[RoundingMode, typer.Option(help="up, or to the nearest step.")] = (
        RoundingMode.UP
    ),
    charge_attempts: Annotated[bool, typer.Option(help="0 s calls pay the connect fee.")] = False,
    split_bands: Annotated[
        bool, typer.Option(help="Split calls at time-band boundaries, each part at its rate.")
    ] = False,
    effective_from: EffectiveFrom = None,
) -> None:
    """Set a tenant's rounding rules (they replace the card's increments), then list its own."""
    from billstream.rating.rater import RoundingRules
    from billstream.rating.service import list_rounding_rules, set_rounding_rule

    rules = RoundingRules(
        first_s=first,
        next_s=next_,
        free_below_s=free_below,
        mode=mode,
        charge_attempts=charge_attempts,
        split_bands=split_bands,
    )
    with unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        set_rounding_rule(
            session,
            clock=runtime.clock,
            ctx=target.ctx,
            rules=rules,
            usage_type=usage_type,
            effective_from=day_of(effective_from),
        )
        table = Table(
            *("usage", "from", "free below", "first", "next", "mode", "attempts", "bands"),
            title=f"Rounding rules of {target.tenant.slug}",
        )
        for rule in list_rounding_rules(session, ctx=target.ctx):
            table.add_row(
                rule.usage_type or "all",
                f"{rule.effective_from:%Y-%m-%d %H:%M %Z}",
                *(str(n) for n in (rule.free_below_s, rule.first_s, rule.next_s)),
                rule.mode,
                "charged" if rule.charge_attempts else "free",
                "split" if rule.split_bands else "start",
            )
    console().print(table)


def tiers_of(texts: list[str]) -> list[Tier]:
    """The tiers `--tier FROM:RATE` options give, in their order."""
    from billstream.core.money import to_micros
    from billstream.rating.allowances import Tier

    parsed: list[Tier] = []
    for i, text in enumerate(texts):
        start, _, rate = text.partition(":")
        try:
            parsed.append(Tier(int(start), to_micros(Decimal(rate))))
        except (ValueError, ArithmeticError):
            raise InvalidInputError(
                f"{text!r} is not FROM:RATE with whole FROM and a rate of <= 6 places",
                field=f"tier[{i}]",
            ) from None
    return parsed


@commands.command("tiers")
@fails_cleanly
def ratecard_tiers(
    tenant: InheritingTenant,
    usage_type: Annotated[str, typer.Option(help="e.g. voice.")],
    tier: Annotated[
        list[str],
        typer.Option(
            help="FROM:RATE, e.g. 0:0.06 then 900:0.03 (seconds or units; per minute "
            "or unit). Repeat for each tier."
        ),
    ],
    effective_from: EffectiveFrom = None,
) -> None:
    """Price a usage type by graduated tiers on each account's period total."""
    from billstream.rating.service import list_tiers, set_tiers

    parsed = tiers_of(tier)
    with unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        set_tiers(
            session,
            clock=runtime.clock,
            ctx=target.ctx,
            usage_type=usage_type,
            tiers=parsed,
            effective_from=day_of(effective_from),
        )
        table = Table(
            "usage", "from", "set", "from quantity", "rate", title=f"Tiers of {target.tenant.slug}"
        )
        for row in list_tiers(session, ctx=target.ctx):
            table.add_row(
                row.usage_type,
                f"{row.effective_from:%Y-%m-%d %H:%M %Z}",
                row.set_id,
                str(row.from_quantity),
                f"{micros(row.rate_micros).normalize():f}",
            )
    console().print(table)


commands.command("margin-rule")(margin_rules.ratecard_margin_rule)
commands.command("margin-rule-end")(margin_rules.ratecard_margin_rule_end)
commands.command("margin-rules")(margin_rules.ratecard_margin_rules)
