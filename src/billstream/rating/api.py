"""Rating runs and rated usage over REST."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, status

from billstream.api.context import Context, Paging
from billstream.api.pages import PageOut
from billstream.api.routing import TransactionalRoute
from billstream.rating import service
from billstream.rating.models import RatingRun
from billstream.rating.schemas import RatedUsageOut, RatingRunCreate, RatingRunOut

runs = APIRouter(prefix="/rating/runs", tags=["rating"], route_class=TransactionalRoute)
rated_usage = APIRouter(prefix="/rated-usage", tags=["rating"], route_class=TransactionalRoute)


def _out(run: RatingRun) -> RatingRunOut:
    return RatingRunOut(
        id=run.id,
        tenant_id=run.tenant_id,
        account_id=run.account_id,
        period_start=run.period_start,
        period_end=run.period_end,
        version=run.version,
        currency=run.currency,
        rated=run.rated,
        rejected=run.rejected,
        superseded=run.superseded,
        retail_micros=run.retail_micros,
        cost_micros=run.cost_micros,
        superseded_micros=run.superseded_micros,
        difference_micros=run.retail_micros - run.superseded_micros,
        created_at=run.created_at,
    )


@runs.post("", status_code=status.HTTP_201_CREATED, summary="Rate (or re-rate) a period")
def create_run(ctx: Context, body: RatingRunCreate, request: Request) -> RatingRunOut:
    run = service.rate_period(
        ctx.session,
        clock=ctx.clock,
        scope=ctx.scope,
        request=service.RatingRequest(
            tenant_id=body.tenant_id or ctx.scope.home,
            start=body.period_start,
            end=body.period_end,
            account_id=body.account_id,
            rerate=body.rerate,
        ),
        data_dir=request.app.state.runtime.settings.data_dir,
    )
    return _out(run)


@runs.get("/{run_id}", summary="A rating run: counts, amounts, and the re-rating difference")
def get_run(ctx: Context, run_id: str) -> RatingRunOut:
    return _out(service.get_run(ctx.session, scope=ctx.scope, run_id=run_id))


@rated_usage.get("", summary="Rated records with their lineage")
def list_rated_usage(
    ctx: Context,
    page: Paging,
    run_id: str | None = None,
    account_id: str | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
    current: bool = True,
) -> PageOut[RatedUsageOut]:
    result = service.list_rated_usage(
        ctx.session,
        scope=ctx.scope,
        cursor=page.cursor,
        limit=page.limit,
        run_id=run_id,
        account_id=account_id,
        started_from=started_from,
        started_before=started_before,
        current=current,
    )
    return PageOut(
        data=[RatedUsageOut.model_validate(r) for r in result.items],
        next_cursor=result.next_cursor,
    )
