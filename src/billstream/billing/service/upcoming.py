"""The upcoming-charges preview of an account: what bill runs would still charge it, by the
bill run's own computation (`subscriptions.charges.billable_lines`) net of what its invoices
already hold. Reads only, writes nothing. It lives in billing because it reads invoices."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts.service import get_account
from billstream.billing.service.due import invoiced_lines, line_key
from billstream.billing.service.usage_due import event_totals, usage_amounts
from billstream.catalog.price_models import EventSplit, EventTotals
from billstream.core.decimals import plain
from billstream.core.limits import MAX_PREVIEW_YEARS, OutOfBoundsError, check_day
from billstream.core.money import Money, minor_unit, round_line, tidy
from billstream.subscriptions.charges import (
    ChargeLine,
    LineKind,
    PeriodTotal,
    billable_lines,
    currency_totals,
    period_totals,
)
from billstream.subscriptions.models import Subscription
from billstream.subscriptions.service.book import CatalogBook
from billstream.subscriptions.service.facts import facts_of
from billstream.subscriptions.service.subscriptions import changes_of
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import resolved_settings

RECURRING_KINDS = (LineKind.RECURRING, LineKind.CREDIT)


@dataclass(frozen=True, slots=True)
class UpcomingCharges:
    account_id: str
    until: date
    lines: list[ChargeLine]
    period_totals: list[PeriodTotal]
    totals: list[Money]


def _check_horizon(until: date, starts: list[date]) -> None:
    """A preview computes every period from each subscription's start: `until` may lie at
    most `MAX_PREVIEW_YEARS` after the first start (a bounded amount of work)."""
    if not starts:
        return
    first = min(starts)
    # compared as (year, month, day): first + 100 years may not be a date (Feb 29, 9999+)
    if (until.year, until.month, until.day) > (
        first.year + MAX_PREVIEW_YEARS,
        first.month,
        first.day,
    ):
        raise OutOfBoundsError(
            f"a preview reaches at most {MAX_PREVIEW_YEARS} years past the account's first "
            f"subscription start ({first.isoformat()}), not to {until.isoformat()}",
            field="until",
        )


def upcoming_charges(
    session: Session, *, scope: TenantScope, account_id: str, until: date
) -> UpcomingCharges:
    """What bill runs would still charge the account's subscriptions up to `until`, line by
    line: every due period prorated from every change recorded so far, less what invoices
    already charged for it (credits for lines no longer owed), and the one-time lines and
    fees no invoice carries yet.

    Each line is rounded once to the tenant's line precision (the currency's minor unit
    unless the tenant sets one); totals are sums of rounded lines. Nothing is written.
    """
    check_day(until, field="until")
    account = get_account(session, scope=scope, account_id=account_id)
    settings = resolved_settings(session, account.tenant_id)
    subscriptions = list(
        session.scalars(
            select(Subscription)
            .where(Subscription.account_id == account.id)
            .order_by(Subscription.created_at, Subscription.id)
        )
    )
    _check_horizon(until, [s.start_date for s in subscriptions])
    changes = changes_of(session, [s.id for s in subscriptions])
    invoiced = invoiced_lines(session, [s.id for s in subscriptions], date.min)
    # the base of percentages of usage: rating periods ended by `until` (as a bill run
    # closing on `until` reads them)
    zone = ZoneInfo(settings.timezone)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    usage = usage_amounts(
        session,
        tenant_id=account.tenant_id,
        accounts=[account.id],
        since=None,
        until=end,
        zone=zone,
    ).get(account.id, {})
    split_events: dict[EventSplit, dict[date, EventTotals]] = {}

    def events(split: EventSplit) -> dict[date, EventTotals]:
        """The account's rated events split for a percentage of events, read once."""
        if split not in split_events:
            split_events[split] = event_totals(
                session, split, tenant_id=account.tenant_id, accounts=[account.id],
                since=None, until=end, zone=zone,
            ).get(account.id, {})  # fmt: skip
        return split_events[split]

    lines: list[ChargeLine] = []
    for subscription in subscriptions:
        places = settings.line_precision
        if places is None:
            places = minor_unit(subscription.currency)
        book = CatalogBook(
            session,
            tenant_id=account.tenant_id,
            account_id=account.id,
            currency=subscription.currency,
            commitment_end=subscription.commitment_end,
        )
        facts = facts_of(subscription, changes[subscription.id], settings)
        owed = billable_lines(
            facts,
            book,
            until=until,
            places=places,
            charged=invoiced.charged.get(subscription.id, {}),
            settled=invoiced.settled(subscription.id, changes[subscription.id]),
            usage=usage,
            events=events,
        )
        lines += [
            _spelled(line, places)
            for line in owed
            if line.kind in RECURRING_KINDS
            or line_key(line, subscription.id, line.source) not in invoiced.keys
        ]
    lines.sort(key=lambda line: line.period.start)
    return UpcomingCharges(
        account_id=account.id,
        until=until,
        lines=lines,
        period_totals=period_totals(lines),
        totals=currency_totals(lines),
    )


def _spelled(line: ChargeLine, places: int) -> ChargeLine:
    """`line` with one spelling per value: a credit negates an invoiced line as the database
    gives it back (``-31.0000000000``), shown at the line precision (``-31.00``)."""
    return replace(
        line,
        quantity=plain(line.quantity),
        unit_price=tidy(line.unit_price, line.currency),
        amount=round_line(Money(line.amount, line.currency), places).amount,
    )
