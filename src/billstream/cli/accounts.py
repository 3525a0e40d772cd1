"""`billstream account`: import customer, vendor and reseller accounts from CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from billstream.cli.common import console, csv_rows, fails_cleanly, target_tenant, unit_of_work
from billstream.core.errors import InvalidInputError

if TYPE_CHECKING:
    from billstream.accounts.service import ImportReport

commands = typer.Typer(help="Customer, vendor and reseller accounts.", no_args_is_help=True)


def show_import_report(report: ImportReport) -> None:
    out = console()
    summary = Table("rows", "created", "updated", "unchanged", "rejected", title="Account import")
    counts = (report.rows, report.created, report.updated, report.unchanged, report.rejected)
    summary.add_row(*(str(n) for n in counts))
    out.print(summary)
    if report.errors:
        rejects = Table("line", "external_id", "field", "reason", title="Rejected rows")
        for error in report.errors:
            rejects.add_row(
                str(error.line), error.external_id or "", error.field or "", error.reason
            )
        out.print(rejects)


@commands.command("import")
@fails_cleanly
def account_import(
    file: Annotated[Path, typer.Argument(help="CSV file with a header row.")],
    tenant: Annotated[str, typer.Option(help="The accounts' tenant (slug or id).")],
) -> None:
    """Create or update accounts from a CSV file, matched by external_id.

    Rejected rows are listed and the rest are imported (exit 0). The exit code is 1 only
    when nothing could be imported: an unreadable file or every row rejected.
    """
    from billstream.accounts.service import import_accounts

    with csv_rows(file) as rows, unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        report = import_accounts(
            session,
            clock=runtime.clock,
            ctx=target.ctx,
            rows=rows,
        )
    show_import_report(report)
    if report.rows and report.rejected == report.rows:
        raise InvalidInputError(
            f"all {report.rows} rows were rejected; nothing was imported", field=str(file)
        )
