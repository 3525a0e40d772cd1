"""`billstream billrun run`: bill the cycles that closed, one run per tenant, a chunk of
accounts per transaction (or a dry run that writes nothing)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from billstream.cli.common import command_runtime, console, day_of, fails_cleanly
from billstream.core.errors import InvalidInputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from billstream.billing.service import DryRun, PlannedRun
    from billstream.bootstrap import Runtime
    from billstream.jobs.bill_runs import RunSummary

commands = typer.Typer(help="Bill runs: invoices for the cycles that close.", no_args_is_help=True)


@commands.command("run")
@fails_cleanly
def billrun_run(
    day: Annotated[
        datetime | None,
        typer.Option(
            "--date",
            formats=["%Y-%m-%d"],
            help="The local day that closed; default: yesterday in each tenant's time zone "
            "(for a daily scheduled run).",
        ),
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="This tenant (slug or id) and its brands; default: all.")
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option(help="Bill only this paying account (repeatable).")
    ] = None,
    all_accounts: Annotated[
        bool, typer.Option("--all", help="Every paying account, whatever its cycle.")
    ] = False,
    key: Annotated[
        str | None, typer.Option(help="The run's key (default: date and selection).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the invoices; write nothing.")
    ] = False,
    chunk: Annotated[int, typer.Option(min=1, help="Accounts per transaction.")] = 1000,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes billing chunks at once (PostgreSQL only).")
    ] = 1,
) -> None:
    """Bill every paying account whose cycle closes on the date (anniversary accounts close
    every day): one run per tenant, committed a chunk of accounts at a time, so running it
    again resumes a run that stopped and never bills anything twice."""
    from billstream.billing.service import dry_run as dry
    from billstream.billing.service import plan_bill_runs
    from billstream.jobs.bill_runs import check_workers

    with command_runtime() as runtime:
        try:
            check_workers(runtime.engine.url, workers)
        except InvalidInputError as exc:
            raise typer.BadParameter(exc.detail, param_hint="'--workers'") from None
        with runtime.session_factory() as session:
            plan = plan_bill_runs(
                session,
                runtime.clock,
                tenant=tenant,
                day=day_of(day),
                accounts=account or [],
                all_accounts=all_accounts,
                key=key,
            )
            if dry_run:
                for run in plan:
                    result = dry(session, runtime.clock, ctx=run.ctx, request=run.request)
                    show_dry_run(session, run, result)
                return
        summaries = execute(runtime, plan, chunk=chunk, workers=workers)
        show_summaries(runtime.session_factory, summaries)


def execute(
    runtime: Runtime, plan: list[PlannedRun], *, chunk: int, workers: int
) -> list[tuple[PlannedRun, RunSummary]]:
    """Each planned run, in order, with a progress bar per tenant on stderr."""
    from billstream.jobs.bill_runs import execute_bill_run
    from billstream.subscriptions.service import CLI_ACTOR

    summaries = []
    with Progress(console=console(stderr=True), transient=True) as progress:
        for run in plan:
            task = progress.add_task(run.tenant.slug, total=None)

            def advance(done: int, total: int, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total or 1)

            summary = execute_bill_run(
                runtime.session_factory,
                runtime.clock,
                ctx=run.ctx,
                request=run.request,
                actor=CLI_ACTOR,
                chunk=chunk,
                workers=workers,
                progress=advance,
            )
            summaries.append((run, summary))
    return summaries


def show_summaries(
    session_factory: sessionmaker[Session], summaries: list[tuple[PlannedRun, RunSummary]]
) -> None:
    from billstream.billing.service import failed_items

    table = Table(
        *("tenant", "run", "key", "accounts", "invoiced", "nothing due", "failed"),
        title="Bill runs",
    )
    for run, summary in summaries:
        table.add_row(
            run.tenant.slug,
            summary.run_id,
            summary.key,
            *(str(n) for n in (summary.accounts, summary.invoiced, summary.nothing_due)),
            f"[red]{summary.failed}[/red]" if summary.failed else "0",
        )
    console().print(table)
    with session_factory() as session:
        for run, summary in summaries:
            for item in failed_items(session, summary.run_id):
                console().print(
                    f"[red]{run.tenant.slug} {item.account_id}: {item.error_code}: "
                    f"{item.error}[/red]"
                )


def show_dry_run(session: Session, run: PlannedRun, result: DryRun) -> None:
    from billstream.accounts.service import account_names

    names = account_names(session, [d.account_id for d in result.invoices])
    table = Table(
        "account", "lines", "subtotal", "tax", "total", title=f"Dry run: {run.tenant.slug}"
    )
    for draft in result.invoices:
        table.add_row(
            names.get(draft.account_id, draft.account_id),
            str(len(draft.lines)),
            str(draft.subtotal),
            str(draft.tax_total.amount),
            str(draft.total),
        )
    console().print(table)
    for failure in result.failures:
        console().print(f"[red]{failure.account_id}: {failure.code}: {failure.message}[/red]")
