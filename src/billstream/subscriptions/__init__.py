"""Subscriptions: orders, the lifecycle, quantity and plan changes, and the charge engine
of bill runs (`charges`)."""
