"""`billstream subscription`: create a subscription from an order, preview its charges."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from billstream.cli.common import console, fails_cleanly, target_account, unit_of_work
from billstream.core.errors import InvalidInputError

if TYPE_CHECKING:
    from billstream.billing.service import UpcomingCharges
    from billstream.subscriptions.schemas import SubscriptionCreate

commands = typer.Typer(help="Subscriptions and charges to come.", no_args_is_help=True)


def order_of(fields: dict[str, Any]) -> SubscriptionCreate:
    """The order the options describe; a malformed option is blamed by its name."""
    from pydantic import ValidationError

    from billstream.subscriptions.schemas import SubscriptionCreate

    try:
        return SubscriptionCreate.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        option = {"start_date": "start", "external_id": "external-id"}.get(
            str(first["loc"][0]), str(first["loc"][0])
        )
        raise InvalidInputError(first["msg"], field=option) from None


@commands.command("create")
@fails_cleanly
def subscription_create(
    account: Annotated[str, typer.Option(help="The account (id or external id).")],
    plan: Annotated[str, typer.Option(help="The plan (id or code).")],
    quantity: Annotated[str, typer.Option(help="How many units, e.g. 50.")] = "1",
    start: Annotated[str | None, typer.Option(help="Local start date; default today.")] = None,
    external_id: Annotated[str | None, typer.Option(help="The order's id elsewhere.")] = None,
) -> None:
    """Create a subscription from an order."""
    from billstream.subscriptions.service import CLI_ACTOR, create_subscription

    with unit_of_work() as (runtime, session):
        target = target_account(session, account)
        holder = target.account
        order = order_of(
            {
                "account_id": holder.id,
                "plan": plan,
                "quantity": quantity,
                "start_date": start,
                "external_id": external_id,
            }
        )
        created = create_subscription(
            session,
            clock=runtime.clock,
            scope=target.scope,
            data=order,
            actor=CLI_ACTOR,
        )
    sub = created.subscription
    console().print(
        f"created subscription {sub.id}: {holder.name}, plan {plan} x {sub.quantity} from "
        f"{sub.start_date.isoformat()} ({created.status})",
        markup=False,
        highlight=False,
    )


def _span(start: date, end: date) -> str:
    last = end - timedelta(days=1)
    return start.isoformat() if last == start else f"{start.isoformat()} - {last.isoformat()}"


@commands.command("preview")
@fails_cleanly
def subscription_preview(
    account: Annotated[str, typer.Argument(help="The account (id or external id).")],
    until: Annotated[str, typer.Option(help="The last local date to preview, e.g. 2026-02-28.")],
) -> None:
    """Show, line by line, what a bill run would charge the account up to UNTIL."""
    from billstream.billing.service import upcoming_charges

    try:
        last_day = date.fromisoformat(until)
    except ValueError:
        raise InvalidInputError(f"{until!r} is not a date (YYYY-MM-DD)", field="until") from None
    with unit_of_work() as (_runtime, session):
        target = target_account(session, account)
        name = target.account.name
        result = upcoming_charges(
            session,
            scope=target.scope,
            account_id=target.account.id,
            until=last_day,
        )
    show_upcoming(result, title=f"Upcoming charges of {name} to {until}")


def show_upcoming(result: UpcomingCharges, *, title: str) -> None:
    lines = Table(
        *("period", "span", "charge", "kind", "quantity", "fraction", "unit price", "layer"),
        "amount",
        title=title,
    )
    for line in result.lines:
        lines.add_row(
            _span(line.period.start, line.period.end),
            _span(line.start, line.end),
            line.charge,
            line.kind,
            str(line.quantity),
            f"{line.days}/{line.period_days}",
            str(line.unit_price),
            line.layer or "",
            f"{line.amount} {line.currency}",
        )
    totals = Table("period", "currency", "amount", title="Totals")
    for total in result.period_totals:
        totals.add_row(
            _span(total.period.start, total.period.end), total.currency, str(total.amount.amount)
        )
    for money in result.totals:
        totals.add_row("all", money.currency, str(money.amount))
    out = console()
    out.print(lines)
    out.print(totals)
