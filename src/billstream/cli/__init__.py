"""The `billstream` command: the root, and its command groups in the order `--help` lists
them. Each group is a module of this package; what they share is in `common`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from billstream.cli import (
    accounts,
    apikeys,
    billruns,
    catalog,
    db,
    invoices,
    ratecards,
    server,
    subscriptions,
    tax,
    tenants,
    usage,
)
from billstream.cli.common import print_error


class OneLineErrors(TyperGroup):
    """The root command: a usage error (an unknown option, a missing argument, a bad value)
    prints one line, ``error: <reason> (<command> --help)``, and exits with code 2.

    Typer would print it in a five-line box. (Typer vendors Click as `typer._click`: its
    exceptions are the ones raised.)"""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:
            sys.exit(exc.exit_code)  # a group without its command: the help is shown
        except ClickException as exc:
            print_error(usage_error_line(exc))
            sys.exit(exc.exit_code)
        except typer.Abort:
            print_error("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def usage_error_line(exc: ClickException) -> str:
    reason = " ".join(exc.format_message().replace("Value error, ", "").split())
    ctx = getattr(exc, "ctx", None)
    return f"{reason} ({ctx.command_path} --help)" if ctx is not None else reason


app = typer.Typer(
    name="billstream",
    cls=OneLineErrors,
    help="billstream: billing and revenue management for communications and subscriptions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets (the pepper, tokens)
)
app.add_typer(db.commands, name="db")
app.add_typer(tenants.commands, name="tenant")
app.add_typer(apikeys.commands, name="apikey")
app.add_typer(accounts.commands, name="account")
app.add_typer(catalog.commands, name="catalog")
app.add_typer(subscriptions.commands, name="subscription")
app.add_typer(usage.commands, name="usage")
app.add_typer(ratecards.commands, name="ratecard")
app.add_typer(invoices.commands, name="invoice")
app.add_typer(billruns.commands, name="billrun")
app.add_typer(tax.commands, name="tax")
app.command("serve")(server.serve)
app.command("demo")(server.demo)

__all__ = ["app"]
