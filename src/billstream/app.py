"""The API's assembly: every domain router under /v1, problem details for every error.

It sits above the domains it assembles (the domain routers import `billstream.api`, the
toolkit, never this module), so imports run one way. Any ASGI server runs it through the
factory, which reads settings at startup, not at import:
`uvicorn --factory billstream.app:create_app`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline

from billstream import __version__
from billstream.access.api import router as api_keys_router
from billstream.accounts.api import accounts as accounts_router
from billstream.accounts.api import numbers as numbers_router
from billstream.api import health, openapi, problems
from billstream.billing.api import bill_runs as bill_runs_router
from billstream.billing.api import invoice_by_ref as invoice_by_ref_router
from billstream.billing.api import invoices as invoices_router
from billstream.billing.api import tax_rates as tax_rates_router
from billstream.billing.api import upcoming as upcoming_router
from billstream.bootstrap import Runtime, bootstrap
from billstream.catalog.api import catalog as catalog_router
from billstream.catalog.api import plans as plans_router
from billstream.catalog.api import products as products_router
from billstream.documents.api import invoices as invoice_documents_router
from billstream.documents.api import templates as document_templates_router
from billstream.mediation.api import router as usage_router
from billstream.rating.api import cards as rating_cards_router
from billstream.rating.api import margin as rating_margin_router
from billstream.rating.api import margin_rules as rating_margin_rules_router
from billstream.rating.api import rated_usage as rated_usage_router
from billstream.rating.api import rules as rating_rules_router
from billstream.rating.api import runs as rating_runs_router
from billstream.rating.api import tiers as rating_tiers_router
from billstream.subscriptions.api import numbers as subscription_numbers_router
from billstream.subscriptions.api import router as subscriptions_router
from billstream.tenants.api import router as tenants_router

DESCRIPTION = """\
billstream's REST API. Authenticate with an API key: `Authorization: Bearer bsk_…`.

* Every POST takes an `Idempotency-Key` header: a retry returns the first response.
* Every list is cursor-paginated: pass `next_cursor` back as `cursor`.
* Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code` and the
  offending `field`.
"""


# Swagger UI and ReDoc come from the fastapi-offline package, so /docs works offline.
DOCS_ASSETS = "/docs/assets"


@asynccontextmanager
async def _runtime_from_settings(app: FastAPI) -> AsyncIterator[None]:
    runtime = bootstrap()
    app.state.runtime = runtime
    try:
        yield
    finally:
        runtime.close()


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """The API over `runtime`; without one, a runtime is built from settings at startup.

    Building the app reads no settings and opens no connection: a server that imports it
    (`uvicorn --factory billstream.app:create_app`) bootstraps in each worker's startup and
    disposes of the engine at shutdown.
    """
    app = FastAPIOffline(
        title="billstream",
        version=__version__,
        description=DESCRIPTION,
        static_url=DOCS_ASSETS,
        # Swagger UI would otherwise send the document to an outside validator.
        swagger_ui_parameters={"validatorUrl": None},
        lifespan=None if runtime is not None else _runtime_from_settings,
    )
    if runtime is not None:
        app.state.runtime = runtime
    app.include_router(health.router)
    v1 = APIRouter(prefix="/v1")
    for router in (
        tenants_router,
        accounts_router,
        numbers_router,
        subscription_numbers_router,
        api_keys_router,
        catalog_router,
        products_router,
        plans_router,
        subscriptions_router,
        upcoming_router,
        usage_router,
        rating_cards_router,
        rating_runs_router,
        rating_rules_router,
        rating_tiers_router,
        rating_margin_rules_router,
        rating_margin_router,
        rated_usage_router,
        bill_runs_router,
        invoices_router,
        tax_rates_router,
        invoice_documents_router,
        document_templates_router,
        invoice_by_ref_router,  # last: its path would match the other invoice routes' paths
    ):
        v1.include_router(router)
    app.include_router(v1)
    problems.install(app)
    openapi.install(app)
    return app
