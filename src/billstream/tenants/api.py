from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from billstream.api.context import Context, Paging
from billstream.api.pages import PageOut
from billstream.api.problems import problem_response
from billstream.api.routing import TransactionalRoute
from billstream.tenants import service
from billstream.tenants.models import Tenant
from billstream.tenants.schemas import (
    ResolvedSettingsOut,
    TenantCreate,
    TenantOut,
    TenantSettingsIn,
    TenantUpdate,
)
from billstream.tenants.scope import TenantScope

router = APIRouter(prefix="/tenants", tags=["tenants"], route_class=TransactionalRoute)


def tenant_out(session: Session, scope: TenantScope, tenant: Tenant) -> TenantOut:
    resolved = service.resolved_settings(session, tenant.id, scope=scope)
    overrides = {name: getattr(tenant, name) for name in service.SETTING_FIELDS}
    parent = tenant.parent_id if tenant.parent_id and scope.allows(tenant.parent_id) else None
    return TenantOut(
        id=tenant.id,
        parent_id=parent,
        slug=tenant.slug,
        name=tenant.name,
        overrides=TenantSettingsIn(**overrides),
        settings=ResolvedSettingsOut.model_validate(asdict(resolved)),
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
    )


@router.get("", summary="List the tenants the key can see")
def list_tenants(ctx: Context, page: Paging, parent_id: str | None = None) -> PageOut[TenantOut]:
    result = service.list_tenants(
        ctx.session, scope=ctx.scope, cursor=page.cursor, limit=page.limit, parent_id=parent_id
    )
    return PageOut(
        data=[tenant_out(ctx.session, ctx.scope, t) for t in result.items],
        next_cursor=result.next_cursor,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a sub-tenant (brand)",
    responses={403: problem_response("A key without descendants (`permission_denied`)")},
)
def create_tenant(ctx: Context, body: TenantCreate) -> TenantOut:
    settings = body.model_dump(exclude={"parent_id", "slug", "name"}, exclude_none=True)
    tenant = service.create_tenant(
        ctx.session,
        clock=ctx.clock,
        scope=ctx.scope,
        parent_id=body.parent_id,
        slug=body.slug,
        name=body.name,
        settings=settings,
    )
    # The caller's scope was computed before this tenant existed.
    return tenant_out(ctx.session, ctx.scope.with_new_descendant(tenant.id), tenant)


@router.get("/{tenant_id}", summary="A tenant with its settings resolved down the tree")
def get_tenant(ctx: Context, tenant_id: str) -> TenantOut:
    return tenant_out(
        ctx.session,
        ctx.scope,
        service.get_tenant(ctx.session, scope=ctx.scope, tenant_id=tenant_id),
    )


@router.patch("/{tenant_id}", summary="Change a tenant; a setting set to null inherits again")
def update_tenant(ctx: Context, tenant_id: str, body: TenantUpdate) -> TenantOut:
    tenant = service.update_tenant(
        ctx.session,
        clock=ctx.clock,
        scope=ctx.scope,
        tenant_id=tenant_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return tenant_out(ctx.session, ctx.scope, tenant)
