"""The REST API toolkit the domain routers build on: authentication and request context,
transactions, idempotency, problem details, the health route and the OpenAPI document.

The app that assembles every router is `billstream.app`, above the domains.
"""
