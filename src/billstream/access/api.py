from __future__ import annotations

from fastapi import APIRouter, status

from billstream.access import service
from billstream.access.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from billstream.api.context import Context, Paging
from billstream.api.pages import PageOut
from billstream.api.routing import TransactionalRoute

router = APIRouter(prefix="/api-keys", tags=["api keys"], route_class=TransactionalRoute)


@router.get("", summary="List API keys (never their tokens)")
def list_api_keys(ctx: Context, page: Paging) -> PageOut[ApiKeyOut]:
    result = service.list_api_keys(
        ctx.session, scope=ctx.scope, cursor=page.cursor, limit=page.limit
    )
    return PageOut(
        data=[ApiKeyOut.model_validate(k) for k in result.items], next_cursor=result.next_cursor
    )


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Create a key; its token is shown once"
)
def create_api_key(ctx: Context, body: ApiKeyCreate) -> ApiKeyCreated:
    created = service.create_api_key(
        ctx.session,
        clock=ctx.clock,
        pepper=ctx.pepper,
        scope=ctx.scope,
        tenant_id=body.tenant_id or ctx.scope.home,
        name=body.name,
        include_descendants=body.include_descendants,
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(created.key).model_dump(), token=created.token)


@router.post("/{api_key_id}/revoke", summary="Revoke a key at once")
def revoke_api_key(ctx: Context, api_key_id: str) -> ApiKeyOut:
    """A key revokes keys of its scope, not one with descendants unless it has them, and
    itself only while other active keys reach every tenant it reaches (docs/api.md)."""
    key = service.revoke_api_key(
        ctx.session, clock=ctx.clock, scope=ctx.scope, key_id=api_key_id, caller=ctx.api_key
    )
    return ApiKeyOut.model_validate(key)
