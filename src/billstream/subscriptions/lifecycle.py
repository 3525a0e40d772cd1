"""The subscription lifecycle as data: statuses, change kinds, and which change fits which status.

    pending ──► trial ──► active ◄──► suspended
                  │          │            │
                  └──────────┴────────────┴──► cancelled / expired

A subscription is `pending` before its start date, in `trial` from its start until its
trial ends (plans with trial days), `active` after that. Suspension and resumption move
between `active` (or `trial`) and `suspended`; cancellation and expiry end it for good.
"""

from __future__ import annotations

from enum import StrEnum


class SubscriptionStatus(StrEnum):
    PENDING = "pending"
    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ChangeKind(StrEnum):
    CREATE = "create"
    QUANTITY = "quantity"
    PLAN = "plan"
    SUSPEND = "suspend"
    RESUME = "resume"
    CANCEL = "cancel"
    EXPIRE = "expire"


class ChangeTiming(StrEnum):
    """When a requested change takes effect."""

    NOW = "now"  # today, in the account's tenant time zone
    PERIOD_END = "period_end"  # the first day of the next billing period
    DATE = "date"  # a given local date


LIVE = frozenset(
    {SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED}
)
RUNNING = frozenset({SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE})

# The statuses a change may be applied in (on its effective date).
ALLOWED_FROM: dict[ChangeKind, frozenset[SubscriptionStatus]] = {
    ChangeKind.QUANTITY: LIVE,
    ChangeKind.PLAN: LIVE,
    ChangeKind.SUSPEND: RUNNING,
    ChangeKind.RESUME: frozenset({SubscriptionStatus.SUSPENDED}),
    ChangeKind.CANCEL: LIVE,
    ChangeKind.EXPIRE: LIVE,
}

# The changes a caller may request; `create` comes from an order, `expire` from an end date.
REQUESTABLE = (
    ChangeKind.QUANTITY,
    ChangeKind.PLAN,
    ChangeKind.SUSPEND,
    ChangeKind.RESUME,
    ChangeKind.CANCEL,
)
