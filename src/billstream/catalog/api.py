"""Catalogue routes: apply a catalogue file; read products, plans and their prices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from billstream.api.context import Context, Ctx, Paging
from billstream.api.pages import PageOut
from billstream.api.routing import TransactionalRoute
from billstream.catalog import service
from billstream.catalog.document import CatalogDocument, load_catalog_json, load_catalog_yaml
from billstream.catalog.errors import CatalogErrorCode
from billstream.catalog.layers import PriceLayer
from billstream.catalog.models import Plan, Price, Product, ProductKind
from billstream.catalog.schemas import (
    AppliedItemOut,
    ApplyOut,
    ChargeOut,
    PlanOut,
    PriceOut,
    ProductOut,
)
from billstream.catalog.service.visibility import owner_shown
from billstream.core.errors import InvalidInputError

catalog = APIRouter(prefix="/catalog", tags=["catalog"], route_class=TransactionalRoute)
products = APIRouter(prefix="/products", tags=["catalog"], route_class=TransactionalRoute)
plans = APIRouter(prefix="/plans", tags=["catalog"], route_class=TransactionalRoute)

CATALOG_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A catalogue file (docs/catalog.md), as YAML or as the same shape in JSON",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


async def catalog_document(request: Request) -> CatalogDocument:
    """The request body read as a catalogue: JSON if it says so, YAML otherwise."""
    body = await request.body()
    if "json" in request.headers.get("content-type", ""):
        return await run_in_threadpool(load_catalog_json, body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(
            "the body is not UTF-8 text", code=CatalogErrorCode.INVALID_FILE, field="body"
        ) from None
    return await run_in_threadpool(load_catalog_yaml, text)


@catalog.post(
    "/apply",
    summary="Apply a catalogue file: create or change what it declares",
    openapi_extra=CATALOG_BODY,
)
def apply_catalog(
    ctx: Context,
    document: Annotated[CatalogDocument, Depends(catalog_document)],
    tenant_id: str | None = None,
) -> ApplyOut:
    report = service.apply_catalog(
        ctx.session,
        clock=ctx.clock,
        ctx=ctx.tenant(tenant_id),
        document=document,
    )
    return ApplyOut(
        tenant_id=report.tenant_id,
        created=report.created,
        changed=report.changed,
        unchanged=report.unchanged,
        items=[AppliedItemOut(kind=i.kind, key=i.key, outcome=i.outcome) for i in report.items],
    )


def product_out(ctx: Ctx, product: Product) -> ProductOut:
    return ProductOut(
        id=product.id,
        tenant_id=owner_shown(ctx.scope, product.tenant_id),
        code=product.code,
        name=product.name,
        kind=ProductKind(product.kind),
        characteristics=product.characteristics,
        sellable_from=product.sellable_from,
        sellable_to=product.sellable_to,
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


@products.get("", summary="Products a tenant can sell: its own and its ancestors'")
def list_products(
    ctx: Context, page: Paging, tenant_id: str | None = None, kind: ProductKind | None = None
) -> PageOut[ProductOut]:
    result = service.list_products(
        ctx.session,
        ctx=ctx.tenant(tenant_id),
        cursor=page.cursor,
        limit=page.limit,
        kind=kind,
    )
    return PageOut(data=[product_out(ctx, p) for p in result.items], next_cursor=result.next_cursor)


@products.get("/{product_id}", summary="A product")
def get_product(ctx: Context, product_id: str) -> ProductOut:
    product = service.get_product(ctx.session, scope=ctx.scope, product_id=product_id)
    return product_out(ctx, product)


def plans_out(ctx: Ctx, rows: Sequence[Plan]) -> list[PlanOut]:
    charges = service.charges_by_plan(ctx.session, [p.id for p in rows])
    return [
        PlanOut(
            id=plan.id,
            tenant_id=owner_shown(ctx.scope, plan.tenant_id),
            code=plan.code,
            name=plan.name,
            currencies=plan.currencies,
            sellable_from=plan.sellable_from,
            sellable_to=plan.sellable_to,
            trial_days=plan.trial_days,
            commitment_months=plan.commitment_months,
            setup_fee=service.decimals(plan.setup_fees),
            early_termination_fee=service.decimals(plan.early_termination_fees),
            included=service.decimals(plan.included),
            charges=[
                ChargeOut.model_validate(c, from_attributes=True) for c in charges.get(plan.id, [])
            ],
            created_at=plan.created_at,
            updated_at=plan.updated_at,
        )
        for plan in rows
    ]


@plans.get("", summary="Plans a tenant can sell: its own and its ancestors'")
def list_plans(ctx: Context, page: Paging, tenant_id: str | None = None) -> PageOut[PlanOut]:
    result = service.list_plans(
        ctx.session, ctx=ctx.tenant(tenant_id), cursor=page.cursor, limit=page.limit
    )
    return PageOut(data=plans_out(ctx, result.items), next_cursor=result.next_cursor)


@plans.get("/{plan_id}", summary="A plan with its terms and charges")
def get_plan(ctx: Context, plan_id: str) -> PlanOut:
    [out] = plans_out(ctx, [service.get_plan_row(ctx.session, scope=ctx.scope, plan_id=plan_id)])
    return out


def price_out(ctx: Ctx, price: Price) -> PriceOut:
    return PriceOut(
        id=price.id,
        tenant_id=owner_shown(ctx.scope, price.tenant_id),
        layer=PriceLayer(price.layer),
        product_id=price.product_id,
        plan_id=price.plan_id,
        charge_id=price.charge_id,
        account_id=price.account_id,
        commitment=price.commitment,
        currency=price.currency,
        effective_from=price.effective_from,
        model=service.PRICE_MODEL.validate_python(price.model),
        adjustments=service.ADJUSTMENTS.validate_python(price.adjustments),
        created_at=price.created_at,
    )


@plans.get(
    "/{plan_id}/prices",
    summary="Every price version that can apply to the plan's charges, in every layer",
)
def list_plan_prices(
    ctx: Context, plan_id: str, page: Paging, currency: str | None = None
) -> PageOut[PriceOut]:
    result = service.list_plan_prices(
        ctx.session,
        scope=ctx.scope,
        plan_id=plan_id,
        cursor=page.cursor,
        limit=page.limit,
        currency=currency,
    )
    return PageOut(data=[price_out(ctx, p) for p in result.items], next_cursor=result.next_cursor)
