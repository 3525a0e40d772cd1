"""What every command shares: the runtime and its unit of work, the one-line error wrapper,
the console, the tenant a command targets, and the options several groups take.

Every command builds the runtime with `bootstrap()` (settings from ``BILLSTREAM_*``), works
in one session and commits once at the end; any error rolls everything back. An expected
error (a `BillstreamError`, a missing or unreadable file, a database error) prints one red
line, ``error: <field>: <reason>``, and exits with code 1.

A command imports the services it calls in its own body: `billstream --help` (and each
command's help) loads neither the database layer nor Polars nor WeasyPrint.
"""

from __future__ import annotations

import csv
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from billstream.core.clock import Clock
from billstream.core.errors import BillstreamError, InvalidInputError, NotFoundError

if TYPE_CHECKING:  # the commands import what they use: `--help` stays light
    from sqlalchemy.orm import Session

    from billstream.accounts.models import Account
    from billstream.bootstrap import Runtime
    from billstream.tenants.context import TenantContext
    from billstream.tenants.models import Tenant
    from billstream.tenants.scope import TenantScope


P = ParamSpec("P")
R = TypeVar("R")

PIPE_WIDTH = 200  # output width when stdout is not a terminal (logs, pipes, tests)

TenantOption = Annotated[str, typer.Option(help="The tenant (slug or id).")]
FromDay = Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day.")]
ToDay = Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Day after.")]
EffectiveFrom = Annotated[
    datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Local date; default today.")
]


def console(*, stderr: bool = False) -> Console:
    """A Rich console for this invocation: terminal width on a terminal, wide in a pipe."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else PIPE_WIDTH)


def print_error(reason: str) -> None:
    """``error: <reason>``: one red line on stderr."""
    console(stderr=True).print(
        f"error: {reason}", style="red", markup=False, highlight=False, soft_wrap=True
    )


def expected_errors() -> tuple[type[Exception], ...]:
    """The errors a command reports in one line (imported when one is raised)."""
    from alembic.util.exc import CommandError
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError, DBAPIError

    return (
        BillstreamError,  # a domain error: field and reason
        OSError,  # a file that is missing or unreadable
        DBAPIError,  # the database refused or is unreachable
        ArgumentError,  # BILLSTREAM_DATABASE_URL is not a URL SQLAlchemy can use
        ValidationError,  # a BILLSTREAM_* setting is malformed
        CommandError,  # Alembic: an unknown revision
    )


def describe(exc: Exception) -> str:
    """One line saying what went wrong, naming the field or file where known."""
    from alembic.util.exc import CommandError
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError, DBAPIError

    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        name = "BILLSTREAM_" + "_".join(str(part) for part in first["loc"]).upper()
        return f"{name}: {first['msg'].removeprefix('Value error, ')}"
    if isinstance(exc, ArgumentError):
        return f"database URL: {exc}"
    if isinstance(exc, CommandError):
        return f"revision: {exc}"
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            reason += " (run `billstream db upgrade` first)"
        return f"database: {reason}"
    return str(exc)


def fails_cleanly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an expected error into one red line on stderr and exit code 1, no traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except Exception as exc:
            if not isinstance(exc, expected_errors()):
                raise
            print_error(describe(exc))
            raise typer.Exit(1) from None

    return run


@contextmanager
def command_runtime(*, clock: Clock | None = None, create: bool = False) -> Iterator[Runtime]:
    """The runtime; only with `create` (db upgrade, demo) is a missing database or secret
    key file made, else it is an error saying where it was looked for."""
    from billstream.bootstrap import bootstrap

    runtime = bootstrap(clock=clock, create=create)
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def unit_of_work(*, clock: Clock | None = None) -> Iterator[tuple[Runtime, Session]]:
    """The runtime and one session, committed once at the end, rolled back on any error."""
    with command_runtime(clock=clock) as runtime, runtime.session_factory() as session:
        try:
            yield runtime, session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@dataclass(frozen=True, slots=True)
class Target:
    """The tenant a command works on, and what the operator reaches through it: its subtree."""

    tenant: Tenant
    ctx: TenantContext

    @property
    def scope(self) -> TenantScope:
        return self.ctx.scope


def target_tenant(session: Session, ref: str, *, option: str = "tenant") -> Target:
    """The tenant an option names by slug or id; an unknown one is blamed on that option."""
    from billstream.tenants.service import find_tenant, operator_context

    try:
        tenant = find_tenant(session, ref)
    except NotFoundError as exc:
        raise NotFoundError(exc.detail, field=option) from None
    return Target(tenant=tenant, ctx=operator_context(session, tenant.id))


@dataclass(frozen=True, slots=True)
class AccountTarget:
    """The account a command works on, and what the operator reaches: its tenant's subtree."""

    account: Account
    scope: TenantScope


def target_account(session: Session, ref: str) -> AccountTarget:
    """The account an option names by id, or by an external id used in one tenant only."""
    from billstream.accounts.service import find_account
    from billstream.tenants.service import operator_scope

    account = find_account(session, ref)
    return AccountTarget(account=account, scope=operator_scope(session, account.tenant_id))


@contextmanager
def csv_rows(path: Path) -> Iterator[Iterator[dict[str, Any]]]:
    """The rows of a UTF-8 CSV file (a BOM is allowed) as dicts keyed by its header."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        try:
            if not reader.fieldnames:
                raise InvalidInputError("the file is empty; expected a header row", field=str(path))
            yield iter(reader)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                f"not a readable UTF-8 CSV file: {exc}", field=str(path)
            ) from None


def day_of(value: datetime | None) -> date | None:
    """The date a ``%Y-%m-%d`` option gave, if any."""
    return value.date() if value else None


def decimal_option(text: str, *, option: str) -> Decimal:
    """The number an option gives; anything else is blamed on that option."""
    try:
        return Decimal(text)
    except ArithmeticError:
        raise InvalidInputError(f"{text!r} is not a number", field=option) from None


def micros(amount: int) -> Decimal:
    """Micro-units (1e-6) as a decimal amount."""
    return Decimal(amount).scaleb(-6)
