"""Reading the catalogue: products, plans, their charges and price versions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from billstream.catalog.errors import CatalogErrorCode
from billstream.catalog.layers import PriceLayer
from billstream.catalog.models import Plan, PlanCharge, Price, Product
from billstream.catalog.service.visibility import nearest_only, reachable
from billstream.core.errors import NotFoundError
from billstream.db.pagination import Page, paginate
from billstream.tenants.context import TenantContext
from billstream.tenants.scope import TenantScope


def list_products(
    session: Session,
    *,
    ctx: TenantContext,
    cursor: str | None = None,
    limit: int = 50,
    kind: str | None = None,
) -> Page[Product]:
    """Products `ctx`'s tenant can sell: its own and inherited."""
    chain = list(reversed(ctx.chain))
    stmt = select(Product).where(nearest_only(Product, chain))
    if kind is not None:
        stmt = stmt.where(Product.kind == kind)
    return paginate(session, stmt, Product.id, cursor=cursor, limit=limit)


def get_product(session: Session, *, scope: TenantScope, product_id: str) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.tenant_id not in reachable(session, scope):
        raise NotFoundError(
            f"product {product_id} not found",
            code=CatalogErrorCode.UNKNOWN_PRODUCT,
            field="product_id",
        )
    return product


def list_plans(
    session: Session,
    *,
    ctx: TenantContext,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Plan]:
    """Plans `ctx`'s tenant can sell: its own and inherited."""
    chain = list(reversed(ctx.chain))
    stmt = select(Plan).where(nearest_only(Plan, chain))
    return paginate(session, stmt, Plan.id, cursor=cursor, limit=limit)


def get_plan_row(session: Session, *, scope: TenantScope, plan_id: str) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None or plan.tenant_id not in reachable(session, scope):
        raise NotFoundError(
            f"plan {plan_id} not found", code=CatalogErrorCode.UNKNOWN_PLAN, field="plan_id"
        )
    return plan


def plan_charges(session: Session, plan_id: str) -> Sequence[PlanCharge]:
    """The plan's charges in the order the catalogue lists them."""
    stmt = select(PlanCharge).where(PlanCharge.plan_id == plan_id)
    return list(session.scalars(stmt.order_by(PlanCharge.position, PlanCharge.code)))


def charges_by_plan(session: Session, plan_ids: Sequence[str]) -> dict[str, list[PlanCharge]]:
    """The charges of several plans at once, each plan's in catalogue order."""
    stmt = select(PlanCharge).where(PlanCharge.plan_id.in_(list(plan_ids)))
    out: dict[str, list[PlanCharge]] = {}
    for charge in session.scalars(stmt.order_by(PlanCharge.position, PlanCharge.code)):
        out.setdefault(charge.plan_id, []).append(charge)
    return out


def list_plan_prices(
    session: Session,
    *,
    scope: TenantScope,
    plan_id: str,
    cursor: str | None = None,
    limit: int = 50,
    currency: str | None = None,
) -> Page[Price]:
    """Every price version that can apply to the plan's charges and that the caller may see.

    Tenant default and plan prices of reachable tenants; brand prices of reachable brands;
    customer prices only for accounts in the caller's scope.
    """
    plan = get_plan_row(session, scope=scope, plan_id=plan_id)
    products = [c.product_id for c in plan_charges(session, plan.id)]
    seen = reachable(session, scope)
    shared = Price.layer.in_([PriceLayer.DEFAULT, PriceLayer.PLAN, PriceLayer.BRAND])
    stmt = select(Price).where(
        or_(
            Price.plan_id == plan.id, and_(Price.plan_id.is_(None), Price.product_id.in_(products))
        ),
        or_(
            and_(shared, Price.tenant_id.in_(sorted(seen))),
            and_(Price.layer == PriceLayer.CUSTOMER, scope.filter(Price)),
        ),
    )
    if currency is not None:
        stmt = stmt.where(Price.currency == currency.upper())
    return paginate(session, stmt, Price.id, cursor=cursor, limit=limit)
