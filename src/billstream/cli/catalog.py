"""`billstream catalog`: apply a catalogue file of products, plans and prices."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from billstream.cli.common import console, fails_cleanly, target_tenant, unit_of_work
from billstream.core.errors import InvalidInputError

if TYPE_CHECKING:
    from billstream.catalog.service import ApplyReport

commands = typer.Typer(help="Products, plans and prices.", no_args_is_help=True)


def show_apply_report(report: ApplyReport) -> None:
    from billstream.catalog.kinds import Outcome

    table = Table("kind", "created", "changed", "unchanged", title="Catalogue applied")
    for kind in report.kinds:
        counts = (report.count(outcome, kind) for outcome in Outcome)
        table.add_row(kind, *(str(n) for n in counts))
    table.add_row("total", str(report.created), str(report.changed), str(report.unchanged))
    console().print(table)


@commands.command("apply")
@fails_cleanly
def catalog_apply(
    file: Annotated[Path, typer.Argument(help="Catalogue file (YAML; see docs/catalog.md).")],
    tenant: Annotated[str, typer.Option(help="The catalogue's tenant (slug or id).")],
) -> None:
    """Create or change the products, plans and prices FILE declares; the same file again
    changes nothing, and a changed price becomes a new version from the file's date."""
    from billstream.catalog.service import apply_catalog, load_catalog_yaml

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("not a UTF-8 text file", field=str(file)) from None
    document = load_catalog_yaml(text)
    with unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant)
        report = apply_catalog(
            session,
            clock=runtime.clock,
            ctx=target.ctx,
            document=document,
        )
    show_apply_report(report)
