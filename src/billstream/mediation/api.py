"""Usage API: upload CDR files, post usage events, list and reprocess rejects."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile, status

from billstream.api.context import Context, Paging
from billstream.api.pages import PageOut
from billstream.api.routing import TransactionalRoute
from billstream.mediation import service
from billstream.mediation.errors import RejectReason, RejectStatus
from billstream.mediation.schemas import (
    EventReject,
    RejectOut,
    ReprocessIn,
    ReprocessOut,
    UsageEventIn,
    UsageEventsIn,
    UsageEventsOut,
    UsageFileOut,
)
from billstream.mediation.service.ingest import target_of

router = APIRouter(prefix="/usage", tags=["usage"], route_class=TransactionalRoute)


def _formats_dir(request: Request) -> Path:
    folder: Path = request.app.state.runtime.settings.resolved_formats_dir()
    return folder


@router.post("/files", status_code=status.HTTP_201_CREATED, summary="Upload a CDR file (multipart)")
def upload_file(
    ctx: Context,
    request: Request,
    file: Annotated[UploadFile, File(description="The CDR file")],
    format: Annotated[str, Form(min_length=1, description="A format name, e.g. asterisk-cdr-csv")],
    tenant_id: Annotated[str | None, Form(description="Default: the key's tenant")] = None,
    timezone: Annotated[
        str | None, Form(description="IANA zone of the file's local times; default: the format's")
    ] = None,
) -> UsageFileOut:
    fmt = service.find_format(format, _formats_dir(request)).with_timezone(timezone)
    report = service.ingest_cdr_file(
        ctx.session,
        clock=ctx.clock,
        ctx=ctx.tenant(tenant_id),
        fmt=fmt,
        name=file.filename or "upload",
        data=file.file.read(),
    )
    return UsageFileOut.model_validate(
        service.get_file(ctx.session, scope=ctx.scope, file_id=report.file_id)
    )


@router.post(
    "/events",
    status_code=status.HTTP_201_CREATED,
    summary="Post usage events: one, or a batch of up to 10,000",
)
def post_events(ctx: Context, body: UsageEventsIn | UsageEventIn) -> UsageEventsOut:
    batch = body if isinstance(body, UsageEventsIn) else UsageEventsIn(events=[body])
    events: list[dict[str, Any]] = [e.model_dump(exclude_none=True) for e in batch.events]
    report = service.ingest_usage_events(
        ctx.session, clock=ctx.clock, ctx=ctx.tenant(batch.tenant_id), events=events
    )
    arrival = UsageFileOut.model_validate(
        service.get_file(ctx.session, scope=ctx.scope, file_id=report.file_id)
    )
    rejects = [
        EventReject(index=r["line_no"], reason=r["reason"], detail=r["detail"])
        for r in report.rejects.iter_rows(named=True)
    ]
    return UsageEventsOut(**arrival.model_dump(), rejects=rejects)


@router.get("/files", summary="List file arrivals with their counts")
def list_files(ctx: Context, page: Paging) -> PageOut[UsageFileOut]:
    result = service.list_files(ctx.session, scope=ctx.scope, cursor=page.cursor, limit=page.limit)
    return PageOut(
        data=[UsageFileOut.model_validate(f) for f in result.items], next_cursor=result.next_cursor
    )


@router.get("/files/{file_id}", summary="A file arrival with its counts")
def get_file(ctx: Context, file_id: str) -> UsageFileOut:
    return UsageFileOut.model_validate(
        service.get_file(ctx.session, scope=ctx.scope, file_id=file_id)
    )


@router.get("/rejects", summary="List rejected records (open ones by default)")
def list_rejects(
    ctx: Context,
    page: Paging,
    reason: RejectReason | None = None,
    status: RejectStatus | None = RejectStatus.OPEN,
) -> PageOut[RejectOut]:
    result = service.list_rejects(
        ctx.session,
        scope=ctx.scope,
        cursor=page.cursor,
        limit=page.limit,
        reason=reason,
        status=status,
    )
    return PageOut(
        data=[RejectOut.model_validate(r) for r in result.items], next_cursor=result.next_cursor
    )


@router.post("/rejects/reprocess", summary="Re-run open rejects after a configuration fix")
def reprocess(ctx: Context, request: Request, body: ReprocessIn) -> ReprocessOut:
    scope = ctx.scope
    if body.tenant_id is not None:
        scope = target_of(ctx.tenant(body.tenant_id)).scope
    report = service.reprocess_rejects(
        ctx.session,
        clock=ctx.clock,
        scope=scope,
        formats_dir=_formats_dir(request),
        reason=body.reason,
    )
    return ReprocessOut(**asdict(report))
