"""The upcoming-charges preview of an account: reads only, writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts.service import get_account
from billstream.core.money import Money, minor_unit
from billstream.subscriptions.models import Subscription
from billstream.subscriptions.preview import (
    PeriodTotal,
    PreviewLine,
    SubscriptionFacts,
    currency_totals,
    period_totals,
    subscription_lines,
)
from billstream.subscriptions.service.book import CatalogBook
from billstream.subscriptions.service.subscriptions import changes_of
from billstream.subscriptions.timeline import Change
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import resolved_settings
from billstream.tenants.settings import ResolvedSettings


@dataclass(frozen=True, slots=True)
class UpcomingCharges:
    account_id: str
    until: date
    lines: list[PreviewLine]
    period_totals: list[PeriodTotal]
    totals: list[Money]


def facts_of(
    subscription: Any, changes: Sequence[Change], settings: ResolvedSettings
) -> SubscriptionFacts:
    """A subscription (its row, ORM or plain) and its changes, as the preview reads them."""
    return SubscriptionFacts(
        id=subscription.id,
        currency=subscription.currency,
        start_date=subscription.start_date,
        billing_anchor=subscription.billing_anchor,
        trial_end=subscription.trial_end,
        commitment_end=subscription.commitment_end,
        changes=tuple(changes),
        fixed_30_day=settings.proration_basis == "thirty_day_month",
    )


def upcoming_charges(
    session: Session, *, scope: TenantScope, account_id: str, until: date
) -> UpcomingCharges:
    """What a bill run would charge the account's subscriptions up to `until`, line by line.

    Each line is rounded once to the tenant's line precision (the currency's minor unit
    unless the tenant sets one); totals are sums of rounded lines. Nothing is written.
    """
    account = get_account(session, scope=scope, account_id=account_id)
    settings = resolved_settings(session, account.tenant_id)
    subscriptions = list(
        session.scalars(
            select(Subscription)
            .where(Subscription.account_id == account.id)
            .order_by(Subscription.created_at, Subscription.id)
        )
    )
    changes = changes_of(session, [s.id for s in subscriptions])
    lines: list[PreviewLine] = []
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
        lines += subscription_lines(facts, book, until=until, places=places)
    lines.sort(key=lambda line: line.period.start)
    return UpcomingCharges(
        account_id=account.id,
        until=until,
        lines=lines,
        period_totals=period_totals(lines),
        totals=currency_totals(lines),
    )
