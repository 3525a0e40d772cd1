"""The REST API under /v1: app assembly, authentication, transactions, idempotency, problems.

Any ASGI server runs it through the factory, which reads settings at startup, not at import:
`uvicorn --factory billstream.api:create_app`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from billstream.bootstrap import Runtime


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """The API app; without `runtime`, one is bootstrapped from settings at startup."""
    # Imported here: the domain routers import billstream.api.routing, so importing them
    # while this package initialises would be circular.
    from billstream.api.app import create_app as assemble

    return assemble(runtime)
