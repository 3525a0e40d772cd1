from __future__ import annotations

import polars as pl
from fastapi import APIRouter, Response, status

from billstream.accounts import service
from billstream.accounts.phone import to_e164
from billstream.accounts.schemas import (
    AccountCreate,
    AccountDetail,
    AccountMove,
    AccountOut,
    AccountTreeNode,
    AccountUpdate,
    AssignmentOut,
    LookupRequest,
    LookupResult,
    NumberOut,
    NumberRelease,
    NumbersAdd,
)
from billstream.api.context import Context, Ctx, Paging
from billstream.api.pages import PageOut
from billstream.api.routing import TransactionalRoute

accounts = APIRouter(prefix="/accounts", tags=["accounts"], route_class=TransactionalRoute)
numbers = APIRouter(prefix="/numbers", tags=["numbers"], route_class=TransactionalRoute)


def _detail(ctx: Ctx, account: object) -> AccountDetail:
    out = AccountOut.model_validate(account)
    payer = service.paying_account_of(ctx.session, account)  # type: ignore[arg-type]
    return AccountDetail(**out.model_dump(), paying_account_id=payer)


@accounts.get("", summary="List accounts")
def list_accounts(
    ctx: Context,
    page: Paging,
    tenant_id: str | None = None,
    parent_id: str | None = None,
    external_id: str | None = None,
    top_level: bool = False,
) -> PageOut[AccountOut]:
    result = service.list_accounts(
        ctx.session,
        scope=ctx.scope,
        cursor=page.cursor,
        limit=page.limit,
        tenant_id=tenant_id,
        parent_id=parent_id,
        external_id=external_id,
        top_level=top_level,
    )
    return PageOut(
        data=[AccountOut.model_validate(a) for a in result.items], next_cursor=result.next_cursor
    )


@accounts.post("", status_code=status.HTTP_201_CREATED, summary="Create an account")
def create_account(ctx: Context, body: AccountCreate) -> AccountDetail:
    return _detail(
        ctx,
        service.create_account(
            ctx.session, clock=ctx.clock, ctx=ctx.tenant(body.tenant_id), data=body
        ),
    )


@accounts.get("/{account_id}", summary="An account, with the account that pays its charges")
def get_account(ctx: Context, account_id: str) -> AccountDetail:
    return _detail(ctx, service.get_account(ctx.session, scope=ctx.scope, account_id=account_id))


@accounts.patch("/{account_id}", summary="Change an account's fields")
def update_account(ctx: Context, account_id: str, body: AccountUpdate) -> AccountDetail:
    return _detail(
        ctx,
        service.update_account(
            ctx.session, clock=ctx.clock, scope=ctx.scope, account_id=account_id, data=body
        ),
    )


@accounts.delete(
    "/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an account with no sub-accounts and no history",
)
def delete_account(ctx: Context, account_id: str) -> Response:
    service.delete_account(ctx.session, scope=ctx.scope, account_id=account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@accounts.get("/{account_id}/tree", summary="The account and everything below it")
def account_tree(ctx: Context, account_id: str) -> AccountTreeNode:
    return service.account_tree(ctx.session, scope=ctx.scope, account_id=account_id)


@accounts.post("/{account_id}/move", summary="Move an account in the hierarchy")
def move_account(ctx: Context, account_id: str, body: AccountMove) -> AccountDetail:
    return _detail(
        ctx,
        service.move_account(
            ctx.session,
            clock=ctx.clock,
            scope=ctx.scope,
            account_id=account_id,
            parent_id=body.parent_id,
            billing_mode=body.billing_mode,
        ),
    )


@numbers.get("", summary="List numbers of the inventory")
def list_numbers(
    ctx: Context, page: Paging, tenant_id: str | None = None, e164: str | None = None
) -> PageOut[NumberOut]:
    result = service.list_numbers(
        ctx.session,
        scope=ctx.scope,
        cursor=page.cursor,
        limit=page.limit,
        tenant_id=tenant_id,
        e164=e164,
    )
    return PageOut(
        data=[NumberOut.model_validate(n) for n in result.items], next_cursor=result.next_cursor
    )


@numbers.post(
    "", status_code=status.HTTP_201_CREATED, summary="Add numbers (up to 10,000; all or none)"
)
def add_numbers(ctx: Context, body: NumbersAdd) -> list[NumberOut]:
    added = service.add_numbers(
        ctx.session,
        clock=ctx.clock,
        ctx=ctx.tenant(body.tenant_id),
        numbers=body.numbers,
        default_region=body.default_region,
    )
    return [NumberOut.model_validate(n) for n in added]


@numbers.post("/lookup", summary="Who held each number at each instant (up to 10,000 at once)")
def lookup_numbers(ctx: Context, body: LookupRequest) -> list[LookupResult]:
    frame = pl.DataFrame(
        {
            "number": [
                to_e164(q.number, field=f"queries[{i}].number") for i, q in enumerate(body.queries)
            ],
            "at": [q.at for q in body.queries],
        },
        schema={"number": pl.String, "at": pl.Datetime("us", "UTC")},
    )
    held = service.number_holders(ctx.session, scope=ctx.scope, queries=frame)
    return [LookupResult.model_validate(row) for row in held.to_dicts()]


@numbers.get("/{number_id}", summary="A number")
def get_number(ctx: Context, number_id: str) -> NumberOut:
    return NumberOut.model_validate(
        service.get_number(ctx.session, scope=ctx.scope, number_id=number_id)
    )


@numbers.get("/{number_id}/assignments", summary="Who held the number, and when")
def list_assignments(ctx: Context, number_id: str) -> list[AssignmentOut]:
    return [
        AssignmentOut.model_validate(a)
        for a in service.list_assignments(ctx.session, scope=ctx.scope, number_id=number_id)
    ]


@numbers.post("/{number_id}/release", summary="End the assignment holding the number at `at`")
def release_number(ctx: Context, number_id: str, body: NumberRelease) -> AssignmentOut:
    return AssignmentOut.model_validate(
        service.release_number(ctx.session, scope=ctx.scope, number_id=number_id, at=body.at)
    )
