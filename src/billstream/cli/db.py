"""`billstream db`: migrate the database up or down, show its revision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from billstream.cli.common import command_runtime, console, fails_cleanly

if TYPE_CHECKING:
    from billstream.bootstrap import Runtime

commands = typer.Typer(help="Database migrations.", no_args_is_help=True)


def show_revision(runtime: Runtime) -> None:
    from billstream.db import migrate

    current, head = migrate.current_revision(runtime.engine), migrate.head_revision()
    where = "head" if current == head else f"head is {head}"
    console().print(f"database {database_label(runtime)} at revision {current or 'none'} ({where})")


def database_label(runtime: Runtime) -> str:
    """The database URL with its password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(runtime.settings.resolved_database_url()).render_as_string(hide_password=True)


@commands.command("upgrade")
@fails_cleanly
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Migrate the database up to REVISION (default: the latest); creates it (and the
    secret key file) if it is not there."""
    from billstream.db import migrate

    with command_runtime(create=True) as runtime:
        migrate.upgrade(runtime.engine, revision)
        show_revision(runtime)


@commands.command("downgrade")
@fails_cleanly
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; `base` empties the database.")],
) -> None:
    """Migrate the database down to REVISION."""
    from billstream.db import migrate

    with command_runtime() as runtime:
        migrate.downgrade(runtime.engine, revision)
        show_revision(runtime)


@commands.command("current")
@fails_cleanly
def db_current() -> None:
    """Show the database's revision and the latest one."""
    with command_runtime() as runtime:
        show_revision(runtime)
