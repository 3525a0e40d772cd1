"""Subscription use cases: orders, changes and reads (the upcoming-charges preview, which
reads invoices, is billing's)."""

from billstream.subscriptions.service.numbers import assign_number
from billstream.subscriptions.service.subscriptions import (
    CLI_ACTOR,
    SubscriptionView,
    change_subscription,
    create_subscription,
    get_subscription,
    list_changes,
    list_subscriptions,
    local_today,
    today_for,
)

__all__ = [
    "CLI_ACTOR",
    "SubscriptionView",
    "assign_number",
    "change_subscription",
    "create_subscription",
    "get_subscription",
    "list_changes",
    "list_subscriptions",
    "local_today",
    "today_for",
]
