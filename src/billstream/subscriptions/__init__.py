"""Subscriptions: orders, the lifecycle, quantity and plan changes, and the charges preview."""
