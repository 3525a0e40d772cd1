"""A subscription's row and changes as the charge computation reads them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from billstream.subscriptions.charges import SubscriptionFacts
from billstream.subscriptions.timeline import Change
from billstream.tenants.settings import ResolvedSettings


def facts_of(
    subscription: Any, changes: Sequence[Change], settings: ResolvedSettings
) -> SubscriptionFacts:
    """A subscription (its row, ORM or plain) and its changes, as the charge engine reads them."""
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
