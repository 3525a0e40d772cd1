"""`billstream usage`: import CDR files, list and reprocess rejects, rate and re-rate a
period, report its margin."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from billstream.cli.common import (
    FromDay,
    TenantOption,
    ToDay,
    console,
    fails_cleanly,
    micros,
    target_tenant,
    unit_of_work,
)
from billstream.core.errors import InvalidInputError

if TYPE_CHECKING:
    from billstream.mediation.service import FileReport
    from billstream.rating.models import RatingRun

commands = typer.Typer(help="Usage: CDR files, rejects, reprocessing.", no_args_is_help=True)
OneTenant = Annotated[str, typer.Option(help="The tenant (slug or id); brands too.")]


def show_file_reports(reports: list[FileReport]) -> None:
    table = Table(
        "file", "format", "in", "accepted", "rejected", "duplicates", title="Usage import"
    )
    for r in reports:
        name = r.name if r.duplicate_of is None else f"{r.name} (already received)"
        counts = (r.records_in, r.accepted, r.rejected, r.duplicates)
        table.add_row(name, r.format, *(str(n) for n in counts))
    console().print(table)


@commands.command("import")
@fails_cleanly
def usage_import(
    files: Annotated[list[Path], typer.Argument(help="CDR files.")],
    format: Annotated[str, typer.Option(help="Format name, e.g. asterisk-cdr-csv.")],
    tenant: Annotated[str, typer.Option(help="The importing tenant (slug or id); brands too.")],
    timezone: Annotated[
        str | None, typer.Option(help="IANA zone of the files' local times; default: format's.")
    ] = None,
) -> None:
    """Import CDR files: each is recorded with its checksum and counts, and committed on its
    own, so a file already received (same content) reports all its records as duplicates."""
    from billstream.mediation.service import find_format, ingest_cdr_file

    reports: list[FileReport] = []
    with unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        folder = runtime.settings.resolved_formats_dir()
        fmt = find_format(format, folder).with_timezone(timezone)
        sizes = [path.stat().st_size for path in files]
        with Progress(console=console(stderr=True), transient=True) as progress:
            task = progress.add_task("importing", total=sum(sizes) or 1)
            for path, size in zip(files, sizes, strict=True):
                progress.update(task, description=path.name)
                reports.append(
                    ingest_cdr_file(
                        session,
                        clock=runtime.clock,
                        ctx=target.ctx,
                        fmt=fmt,
                        name=path.name,
                        data=path.read_bytes(),
                    )
                )
                session.commit()
                progress.advance(task, size)
    show_file_reports(reports)


@commands.command("rejects")
@fails_cleanly
def usage_rejects(
    tenant: OneTenant,
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
) -> None:
    """List open rejected records: file, line, reason, detail and the raw line."""
    from billstream.mediation.service import file_names, list_rejects

    table = Table("file", "line", "reason", title="Open rejects")
    for name in ("detail", "raw"):  # one line per reject: long ones end in an ellipsis
        table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=70)
    with unit_of_work() as (_runtime, session):
        scope = target_tenant(session, tenant).scope
        page = list_rejects(session, scope=scope, reason=reason, limit=limit)
        names = file_names(session, scope=scope, file_ids={r.file_id for r in page.items})
        for r in page.items:
            table.add_row(names[r.file_id], str(r.line_no), r.reason, r.detail, r.raw)
    console().print(table)
    if page.next_cursor:
        console().print(f"(more than {limit}; raise --limit)", markup=False)


@commands.command("reprocess")
@fails_cleanly
def usage_reprocess(
    tenant: OneTenant,
    reason: Annotated[str | None, typer.Option(help="Only rejects of this reason code.")] = None,
) -> None:
    """Re-run the open rejects (after a fix: a number assigned, a format corrected)."""
    from billstream.mediation.service import reprocess_rejects

    with unit_of_work() as (runtime, session):
        report = reprocess_rejects(
            session,
            clock=runtime.clock,
            scope=target_tenant(session, tenant).scope,
            formats_dir=runtime.settings.resolved_formats_dir(),
            reason=reason,
        )
    table = Table("reprocessed", "accepted", "duplicates", "still rejected", title="Reprocess")
    counts = (report.reprocessed, report.accepted, report.duplicates, report.still_rejected)
    table.add_row(*(str(n) for n in counts))
    console().print(table)


def _rate_usage(
    tenant: str, start: datetime, end: datetime, account: str | None, *, rerate: bool
) -> None:
    from billstream.accounts.service import find_account
    from billstream.rating.service import RatingRequest, rate_period

    with unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        request = RatingRequest(
            tenant_id=target.tenant.id,
            start=start.date(),
            end=end.date(),
            account_id=find_account(session, account).id if account else None,
            rerate=rerate,
        )
        run = rate_period(
            session,
            clock=runtime.clock,
            ctx=target.ctx,
            request=request,
            data_dir=runtime.settings.data_dir,
        )
    show_rating_run(run)


def show_rating_run(run: RatingRun) -> None:
    table = Table(
        "run", "version", "rated", "rejected", "retail", "cost", "replaced", title="Rating"
    )
    amounts = (run.retail_micros, run.cost_micros, run.superseded_micros)
    table.add_row(
        run.id,
        str(run.version),
        str(run.rated),
        str(run.rejected),
        *(f"{micros(a):f} {run.currency}" for a in amounts),
    )
    console().print(table)


@commands.command("rate")
@fails_cleanly
def usage_rate(
    tenant: TenantOption,
    start: FromDay,
    end: ToDay,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
) -> None:
    """Rate the period's accepted usage at retail and cost (refused if already rated)."""
    _rate_usage(tenant, start, end, account, rerate=False)


@commands.command("rerate")
@fails_cleanly
def usage_rerate(
    tenant: TenantOption,
    start: FromDay,
    end: ToDay,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
) -> None:
    """Re-rate a period as a new version: the earlier rows are superseded, never charged twice."""
    _rate_usage(tenant, start, end, account, rerate=True)


@commands.command("margin")
@fails_cleanly
def usage_margin(
    tenant: TenantOption,
    by: Annotated[str, typer.Option(help="carrier, destination or customer.")],
    start: FromDay,
    end: ToDay,
    limit: Annotated[int, typer.Option(min=1, help="At most this many groups.")] = 1_000,
) -> None:
    """Margin (retail - cost) of the period's current rated records, largest first."""
    from billstream.rating.service.margin import MarginBy, margin_report

    if by not in {b.value for b in MarginBy}:
        raise InvalidInputError("--by is carrier, destination or customer", field="by")
    with unit_of_work() as (_runtime, session):
        target = target_tenant(session, tenant)
        report = margin_report(
            session,
            ctx=target.ctx,
            group_by=MarginBy(by),
            start=start.date(),
            end=end.date(),
            limit=limit,
        )
    table = Table(
        by, "", "records", "minutes", "retail", "cost", "margin", "uncosted", title="Margin"
    )
    rows = [(g, False) for g in report.groups] + [(t, True) for t in report.totals]
    for group, total in rows:
        table.add_row(
            "total" if total else (group.key or "-"),
            group.label or "",
            str(group.records),
            f"{group.billed_minutes.normalize():f}",
            *(
                f"{micros(amount):f} {group.currency}"
                for amount in (group.retail_micros, group.cost_micros, group.margin_micros)
            ),
            str(group.uncosted),
            end_section=group is report.groups[-1] if report.groups else False,
        )
    console().print(table)
    if report.truncated:
        console().print(f"(more than {limit} groups; raise --limit)", markup=False)
