"""Subscription use cases: orders, changes, reads and the upcoming-charges preview."""

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
)
from billstream.subscriptions.service.upcoming import UpcomingCharges, upcoming_charges

__all__ = [
    "CLI_ACTOR",
    "SubscriptionView",
    "UpcomingCharges",
    "assign_number",
    "change_subscription",
    "create_subscription",
    "get_subscription",
    "list_changes",
    "list_subscriptions",
    "local_today",
    "upcoming_charges",
]
