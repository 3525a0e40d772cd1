"""The REST API under /v1: app assembly, authentication, transactions, idempotency, problems."""
