"""The `billstream` command: database, tenants, API keys, account import, server and demo.

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from billstream.core.clock import Clock, FakeClock
from billstream.core.errors import BillstreamError, InvalidInputError, NotFoundError
from billstream.documents.cli import invoice_commands
from billstream.rating.kinds import CardKind, RoundingMode

if TYPE_CHECKING:  # the commands import what they use: `--help` stays light
    from sqlalchemy.orm import Session

    from billstream.accounts.models import Account
    from billstream.accounts.service import ImportReport
    from billstream.billing.service import (
        DryRun,
    )
    from billstream.bootstrap import Runtime
    from billstream.catalog.service import ApplyReport
    from billstream.mediation.service import (
        FileReport,
    )
    from billstream.rating.allowances import Tier
    from billstream.rating.models import MarginRule
    from billstream.subscriptions.schemas import SubscriptionCreate
    from billstream.tenants.models import Tenant


P = ParamSpec("P")
R = TypeVar("R")

PIPE_WIDTH = 200  # output width when stdout is not a terminal (logs, pipes, tests)


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
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenants: the parent company and its brands.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for the REST API.", no_args_is_help=True)
account_app = typer.Typer(help="Customer, vendor and reseller accounts.", no_args_is_help=True)
catalog_app = typer.Typer(help="Products, plans and prices.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(apikey_app, name="apikey")
app.add_typer(account_app, name="account")
app.add_typer(catalog_app, name="catalog")
subscription_app = typer.Typer(help="Subscriptions and charges to come.", no_args_is_help=True)
app.add_typer(subscription_app, name="subscription")
usage_app = typer.Typer(help="Usage: CDR files, rejects, reprocessing.", no_args_is_help=True)
app.add_typer(usage_app, name="usage")
ratecard_app = typer.Typer(help="Rate cards for rating usage.", no_args_is_help=True)
app.add_typer(ratecard_app, name="ratecard")


def console(*, stderr: bool = False) -> Console:
    """A Rich console for this invocation: terminal width on a terminal, wide in a pipe."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else PIPE_WIDTH)


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


def print_error(reason: str) -> None:
    """``error: <reason>``: one red line on stderr."""
    console(stderr=True).print(
        f"error: {reason}", style="red", markup=False, highlight=False, soft_wrap=True
    )


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


app.add_typer(
    invoice_commands(unit_of_work=unit_of_work, fails_cleanly=fails_cleanly, console=console),
    name="invoice",
)


def tenant_ref(session: Session, ref: str, *, option: str) -> Tenant:
    """The tenant an option names by slug or id; an unknown one is blamed on that option."""
    from billstream.tenants.service import find_tenant

    try:
        return find_tenant(session, ref)
    except NotFoundError as exc:
        raise NotFoundError(exc.detail, field=option) from None


def database_label(runtime: Runtime) -> str:
    from sqlalchemy.engine import make_url

    return make_url(runtime.settings.resolved_database_url()).render_as_string(hide_password=True)


# --- db ----------------------------------------------------------------------------------


def show_revision(runtime: Runtime) -> None:
    from billstream.db import migrate

    current, head = migrate.current_revision(runtime.engine), migrate.head_revision()
    where = "head" if current == head else f"head is {head}"
    console().print(f"database {database_label(runtime)} at revision {current or 'none'} ({where})")


@db_app.command("upgrade")
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


@db_app.command("downgrade")
@fails_cleanly
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; `base` empties the database.")],
) -> None:
    """Migrate the database down to REVISION."""
    from billstream.db import migrate

    with command_runtime() as runtime:
        migrate.downgrade(runtime.engine, revision)
        show_revision(runtime)


@db_app.command("current")
@fails_cleanly
def db_current() -> None:
    """Show the database's revision and the latest one."""
    with command_runtime() as runtime:
        show_revision(runtime)


# --- tenants -----------------------------------------------------------------------------


@tenant_app.command("create")
@fails_cleanly
def tenant_create(
    slug: Annotated[str, typer.Argument(help="Short unique name, e.g. northwind-uk.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    parent: Annotated[str | None, typer.Option(help="Parent tenant (slug or id).")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217, e.g. USD.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA, e.g. Europe/London.")] = None,
    locale: Annotated[str | None, typer.Option(help="e.g. en_GB.")] = None,
    invoice_prefix: Annotated[str | None, typer.Option(help="e.g. INV-.")] = None,
    invoice_format: Annotated[str | None, typer.Option(help="{prefix}, {year}, {seq}.")] = None,
    line_precision: Annotated[int | None, typer.Option(help="Places per line.")] = None,
    proration_basis: Annotated[
        str | None, typer.Option(help="actual_days (default) or thirty_day_month.")
    ] = None,
    brand_name: Annotated[str | None, typer.Option()] = None,
    brand_address: Annotated[str | None, typer.Option()] = None,
    brand_logo_url: Annotated[str | None, typer.Option()] = None,
    brand_primary_color: Annotated[str | None, typer.Option(help="#RRGGBB.")] = None,
    brand_accent_color: Annotated[str | None, typer.Option(help="#RRGGBB.")] = None,
    brand_footer: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a tenant; settings left out are inherited from the parent."""
    from billstream.tenants.service import create_tenant, resolved_settings

    overrides = {
        "currency": currency,
        "timezone": timezone,
        "locale": locale,
        "invoice_prefix": invoice_prefix,
        "invoice_format": invoice_format,
        "line_precision": line_precision,
        "proration_basis": proration_basis,
        "brand_name": brand_name,
        "brand_address": brand_address,
        "brand_logo_url": brand_logo_url,
        "brand_primary_color": brand_primary_color,
        "brand_accent_color": brand_accent_color,
        "brand_footer": brand_footer,
    }
    with unit_of_work() as (runtime, session):
        parent_id = tenant_ref(session, parent, option="parent").id if parent else None
        tenant = create_tenant(
            session,
            clock=runtime.clock,
            slug=slug,
            name=name,
            parent_id=parent_id,
            settings={k: v for k, v in overrides.items() if v is not None},
        )
        settings = resolved_settings(session, tenant.id)
    console().print(
        f"created tenant {tenant.slug} ({tenant.id}): {settings.currency}, "
        f"{settings.timezone}, {settings.locale}",
        markup=False,
        highlight=False,
    )


@tenant_app.command("list")
@fails_cleanly
def tenant_list() -> None:
    """List every tenant with the settings in force for it."""
    from billstream.tenants.service import all_tenants, resolved_settings

    table = Table("slug", "name", "parent", "currency", "time zone", "locale", "id")
    with unit_of_work() as (_runtime, session):
        tenants = all_tenants(session)
        slug_of = {t.id: t.slug for t in tenants}
        for tenant in tenants:
            settings = resolved_settings(session, tenant.id)
            parent = slug_of.get(tenant.parent_id, "") if tenant.parent_id else ""
            table.add_row(
                tenant.slug,
                tenant.name,
                parent,
                settings.currency,
                settings.timezone,
                settings.locale,
                tenant.id,
            )
    console().print(table)


# --- API keys ----------------------------------------------------------------------------


@apikey_app.command("create")
@fails_cleanly
def apikey_create(
    tenant: Annotated[str, typer.Option(help="The key's tenant (slug or id).")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    descendants: Annotated[
        bool, typer.Option("--descendants", help="Also reach the tenant's sub-tenants.")
    ] = False,
) -> None:
    """Create an API key. The token goes alone to stdout, notes to stderr."""
    from billstream.access.service import create_api_key

    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        created = create_api_key(
            session,
            clock=runtime.clock,
            pepper=runtime.pepper,
            tenant_id=target.id,
            name=name,
            include_descendants=descendants,
        )
    reach = "and its sub-tenants" if descendants else "only"
    notes = console(stderr=True)
    notes.print(f"API key {created.key.id} for tenant {target.slug} {reach}.", markup=False)
    notes.print(
        "Copy the token now: it is shown once and only its hash is stored.",
        style="yellow",
        markup=False,
    )
    typer.echo(created.token)


@apikey_app.command("revoke")
@fails_cleanly
def apikey_revoke(
    key: Annotated[str, typer.Argument(help="The key's id (key_…), as the API lists it.")],
) -> None:
    """Revoke an API key at once: any key, a tenant's last included (the REST API refuses
    that; `apikey create` makes a new one)."""
    from billstream.access.models import ApiKey
    from billstream.access.service import revoke_api_key
    from billstream.tenants.service import operator_scope

    with unit_of_work() as (runtime, session):
        found = session.get(ApiKey, key)
        if found is None:
            raise NotFoundError(f"no API key with id {key!r}", field="key")
        revoke_api_key(
            session,
            clock=runtime.clock,
            scope=operator_scope(session, found.tenant_id),
            key_id=found.id,
        )
    console(stderr=True).print(f"API key {key} revoked.", markup=False)


# --- accounts ----------------------------------------------------------------------------


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


@account_app.command("import")
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
    from billstream.tenants.service import operator_scope

    with csv_rows(file) as rows, unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        report = import_accounts(
            session,
            clock=runtime.clock,
            scope=operator_scope(session, target.id),
            tenant_id=target.id,
            rows=rows,
        )
    show_import_report(report)
    if report.rows and report.rejected == report.rows:
        raise InvalidInputError(
            f"all {report.rows} rows were rejected; nothing was imported", field=str(file)
        )


# --- catalogue ---------------------------------------------------------------------------


def show_apply_report(report: ApplyReport) -> None:
    from billstream.catalog.service import Outcome

    table = Table("kind", "created", "changed", "unchanged", title="Catalogue applied")
    for kind in report.kinds:
        counts = (report.count(outcome, kind) for outcome in Outcome)
        table.add_row(kind, *(str(n) for n in counts))
    table.add_row("total", str(report.created), str(report.changed), str(report.unchanged))
    console().print(table)


@catalog_app.command("apply")
@fails_cleanly
def catalog_apply(
    file: Annotated[Path, typer.Argument(help="Catalogue file (YAML; see docs/catalog.md).")],
    tenant: Annotated[str, typer.Option(help="The catalogue's tenant (slug or id).")],
) -> None:
    """Create or change the products, plans and prices FILE declares; the same file again
    changes nothing, and a changed price becomes a new version from the file's date."""
    from billstream.catalog.service import apply_catalog, load_catalog_yaml
    from billstream.tenants.service import operator_scope

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("not a UTF-8 text file", field=str(file)) from None
    document = load_catalog_yaml(text)
    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        report = apply_catalog(
            session,
            clock=runtime.clock,
            scope=operator_scope(session, target.id),
            tenant_id=target.id,
            document=document,
        )
    show_apply_report(report)


# --- subscriptions -----------------------------------------------------------------------


def account_ref(session: Session, ref: str) -> Account:
    """The account an option names by id, or by an external id used in one tenant only."""
    from sqlalchemy import select

    from billstream.accounts.models import Account

    account = session.get(Account, ref)
    if account is not None:
        return account
    found = list(session.scalars(select(Account).where(Account.external_id == ref).limit(2)))
    if len(found) == 1:
        return found[0]
    reason = "is used in several tenants; give the account id" if found else "is unknown"
    raise NotFoundError(f"account {ref!r} {reason}", field="account")


def order_of(fields: dict[str, Any]) -> SubscriptionCreate:
    """The order the options describe; a malformed option is blamed by its name."""
    from pydantic import ValidationError

    from billstream.subscriptions.schemas import SubscriptionCreate

    try:
        return SubscriptionCreate.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        option = {"start_date": "start", "external_id": "external-id"}.get(
            str(first["loc"][0]), str(first["loc"][0])
        )
        raise InvalidInputError(first["msg"], field=option) from None


@subscription_app.command("create")
@fails_cleanly
def subscription_create(
    account: Annotated[str, typer.Option(help="The account (id or external id).")],
    plan: Annotated[str, typer.Option(help="The plan (id or code).")],
    quantity: Annotated[str, typer.Option(help="How many units, e.g. 50.")] = "1",
    start: Annotated[str | None, typer.Option(help="Local start date; default today.")] = None,
    external_id: Annotated[str | None, typer.Option(help="The order's id elsewhere.")] = None,
) -> None:
    """Create a subscription from an order."""
    from billstream.subscriptions.service import CLI_ACTOR, create_subscription
    from billstream.tenants.service import operator_scope

    with unit_of_work() as (runtime, session):
        holder = account_ref(session, account)
        order = order_of(
            {
                "account_id": holder.id,
                "plan": plan,
                "quantity": quantity,
                "start_date": start,
                "external_id": external_id,
            }
        )
        created = create_subscription(
            session,
            clock=runtime.clock,
            scope=operator_scope(session, holder.tenant_id),
            data=order,
            actor=CLI_ACTOR,
        )
    sub = created.subscription
    console().print(
        f"created subscription {sub.id}: {holder.name}, plan {plan} x {sub.quantity} from "
        f"{sub.start_date.isoformat()} ({created.status})",
        markup=False,
        highlight=False,
    )


def _span(start: date, end: date) -> str:
    last = end - timedelta(days=1)
    return start.isoformat() if last == start else f"{start.isoformat()} - {last.isoformat()}"


@subscription_app.command("preview")
@fails_cleanly
def subscription_preview(
    account: Annotated[str, typer.Argument(help="The account (id or external id).")],
    until: Annotated[str, typer.Option(help="The last local date to preview, e.g. 2026-02-28.")],
) -> None:
    """Show, line by line, what a bill run would charge the account up to UNTIL."""
    from billstream.billing.service import upcoming_charges
    from billstream.tenants.service import operator_scope

    try:
        last_day = date.fromisoformat(until)
    except ValueError:
        raise InvalidInputError(f"{until!r} is not a date (YYYY-MM-DD)", field="until") from None
    with unit_of_work() as (_runtime, session):
        holder = account_ref(session, account)
        name = holder.name
        result = upcoming_charges(
            session,
            scope=operator_scope(session, holder.tenant_id),
            account_id=holder.id,
            until=last_day,
        )
    lines = Table(
        *("period", "span", "charge", "kind", "quantity", "fraction", "unit price", "layer"),
        "amount",
        title=f"Upcoming charges of {name} to {until}",
    )
    for line in result.lines:
        lines.add_row(
            _span(line.period.start, line.period.end),
            _span(line.start, line.end),
            line.charge,
            line.kind,
            str(line.quantity),
            f"{line.days}/{line.period_days}",
            str(line.unit_price),
            line.layer or "",
            f"{line.amount} {line.currency}",
        )
    totals = Table("period", "currency", "amount", title="Totals")
    for total in result.period_totals:
        totals.add_row(
            _span(total.period.start, total.period.end), total.currency, str(total.amount.amount)
        )
    for money in result.totals:
        totals.add_row("all", money.currency, str(money.amount))
    out = console()
    out.print(lines)
    out.print(totals)


# --- usage ---------------------------------------------------------------------------------


def show_file_reports(reports: list[FileReport]) -> None:
    table = Table(
        "file", "format", "in", "accepted", "rejected", "duplicates", title="Usage import"
    )
    for r in reports:
        name = r.name if r.duplicate_of is None else f"{r.name} (already received)"
        counts = (r.records_in, r.accepted, r.rejected, r.duplicates)
        table.add_row(name, r.format, *(str(n) for n in counts))
    console().print(table)


@usage_app.command("import")
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
    from billstream.tenants.service import operator_scope

    reports: list[FileReport] = []
    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        scope = operator_scope(session, target.id)
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
                        scope=scope,
                        tenant_id=target.id,
                        fmt=fmt,
                        name=path.name,
                        data=path.read_bytes(),
                    )
                )
                session.commit()
                progress.advance(task, size)
    show_file_reports(reports)


@usage_app.command("rejects")
@fails_cleanly
def usage_rejects(
    tenant: Annotated[str, typer.Option(help="The tenant (slug or id); brands too.")],
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
) -> None:
    """List open rejected records: file, line, reason, detail and the raw line."""
    from sqlalchemy import select

    from billstream.mediation.models import UsageFile
    from billstream.mediation.service import list_rejects
    from billstream.tenants.service import operator_scope

    table = Table("file", "line", "reason", title="Open rejects")
    for name in ("detail", "raw"):  # one line per reject: long ones end in an ellipsis
        table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=70)
    with unit_of_work() as (_runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        page = list_rejects(
            session, scope=operator_scope(session, target.id), reason=reason, limit=limit
        )
        names = {
            f.id: f.name
            for f in session.scalars(
                select(UsageFile).where(UsageFile.id.in_({r.file_id for r in page.items}))
            )
        }
        for r in page.items:
            table.add_row(names[r.file_id], str(r.line_no), r.reason, r.detail, r.raw)
    console().print(table)
    if page.next_cursor:
        console().print(f"(more than {limit}; raise --limit)", markup=False)


@usage_app.command("reprocess")
@fails_cleanly
def usage_reprocess(
    tenant: Annotated[str, typer.Option(help="The tenant (slug or id); brands too.")],
    reason: Annotated[str | None, typer.Option(help="Only rejects of this reason code.")] = None,
) -> None:
    """Re-run the open rejects (after a fix: a number assigned, a format corrected)."""
    from billstream.mediation.service import reprocess_rejects
    from billstream.tenants.service import operator_scope

    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        report = reprocess_rejects(
            session,
            clock=runtime.clock,
            scope=operator_scope(session, target.id),
            formats_dir=runtime.settings.resolved_formats_dir(),
            reason=reason,
        )
    table = Table("reprocessed", "accepted", "duplicates", "still rejected", title="Reprocess")
    counts = (report.reprocessed, report.accepted, report.duplicates, report.still_rejected)
    table.add_row(*(str(n) for n in counts))
    console().print(table)


# --- rating ------------------------------------------------------------------------------


@ratecard_app.command("import")
@fails_cleanly
def ratecard_import(
    file: Annotated[Path, typer.Argument(help="CSV rate card (see docs/rating.md).")],
    tenant: Annotated[str, typer.Option(help="The card's tenant (slug or id).")],
    name: Annotated[str, typer.Option(help="The card's name; the same name is a new version.")],
    kind: Annotated[CardKind, typer.Option(help="retail (customers) or cost (a carrier).")],
    effective_from: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Local date; default today.")
    ] = None,
    currency: Annotated[str | None, typer.Option(help="Default: the tenant's.")] = None,
    account: Annotated[
        str | None, typer.Option(help="Retail: the customer of special rates. Cost: the vendor.")
    ] = None,
    carrier: Annotated[str | None, typer.Option(help="Cost: the usage's carrier name.")] = None,
) -> None:
    """Import a rate card CSV as a new version; bad rows are listed by line and column and
    the rest are imported. Exit 1 when no row could be imported, or when rows of one prefix,
    usage type and band overlap in time (then nothing is imported)."""
    from billstream.rating.service import import_rate_card
    from billstream.tenants.service import operator_scope

    with csv_rows(file) as rows, unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        report = import_rate_card(
            session,
            clock=runtime.clock,
            scope=operator_scope(session, target.id),
            tenant_id=target.id,
            name=name,
            kind=kind,
            rows=rows,
            source=file.name,
            effective_from=effective_from.date() if effective_from else None,
            currency=currency,
            account_id=account_ref(session, account).id if account else None,
            carrier=carrier,
        )
    out = console()
    summary = Table("card", "version", "rows", "imported", "rejected", title="Rate card import")
    version = str(report.version) if report.version else "-"
    counts = (report.rows, report.imported, len(report.errors))
    summary.add_row(name, version, *(str(n) for n in counts))
    out.print(summary)
    if report.errors:
        rejects = Table("line", "column", "reason", title="Rejected rows")
        for error in report.errors:
            rejects.add_row(str(error.line), error.column, error.reason)
        out.print(rejects)
    if not report.imported:
        raise InvalidInputError("no row could be imported", field=str(file))


@ratecard_app.command("rules")
@fails_cleanly
def ratecard_rules(
    tenant: Annotated[str, typer.Option(help="The tenant (slug or id); its brands inherit.")],
    first: Annotated[int, typer.Option(min=0, help="Calls up to this many seconds bill it.")],
    next_: Annotated[int, typer.Option("--next", min=1, help="Then steps of this many seconds.")],
    free_below: Annotated[int, typer.Option(min=0, help="Shorter calls are free.")] = 0,
    usage_type: Annotated[str | None, typer.Option(help="Default: every usage type.")] = None,
    mode: Annotated[RoundingMode, typer.Option(help="up, or to the nearest step.")] = (
        RoundingMode.UP
    ),
    charge_attempts: Annotated[bool, typer.Option(help="0 s calls pay the connect fee.")] = False,
    split_bands: Annotated[
        bool, typer.Option(help="Split calls at time-band boundaries, each part at its rate.")
    ] = False,
    effective_from: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Local date; default today.")
    ] = None,
) -> None:
    """Set a tenant's rounding rules (they replace the card's increments), then list its own."""
    from billstream.rating.rater import RoundingRules
    from billstream.rating.service import list_rounding_rules, set_rounding_rule
    from billstream.tenants.service import operator_scope

    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        scope = operator_scope(session, target.id)
        set_rounding_rule(
            session,
            clock=runtime.clock,
            scope=scope,
            tenant_id=target.id,
            rules=RoundingRules(
                first_s=first,
                next_s=next_,
                free_below_s=free_below,
                mode=mode,
                charge_attempts=charge_attempts,
                split_bands=split_bands,
            ),
            usage_type=usage_type,
            effective_from=effective_from.date() if effective_from else None,
        )
        rules = list_rounding_rules(session, scope=scope, tenant_id=target.id)
        table = Table(
            "usage",
            "from",
            "free below",
            "first",
            "next",
            "mode",
            "attempts",
            "bands",
            title=f"Rounding rules of {target.slug}",
        )
        for rule in rules:
            table.add_row(
                rule.usage_type or "all",
                f"{rule.effective_from:%Y-%m-%d %H:%M %Z}",
                *(str(n) for n in (rule.free_below_s, rule.first_s, rule.next_s)),
                rule.mode,
                "charged" if rule.charge_attempts else "free",
                "split" if rule.split_bands else "start",
            )
    console().print(table)


@ratecard_app.command("tiers")
@fails_cleanly
def ratecard_tiers(
    tenant: Annotated[str, typer.Option(help="The tenant (slug or id); its brands inherit.")],
    usage_type: Annotated[str, typer.Option(help="e.g. voice.")],
    tier: Annotated[
        list[str],
        typer.Option(
            help="FROM:RATE, e.g. 0:0.06 then 900:0.03 (seconds or units; per minute "
            "or unit). Repeat for each tier."
        ),
    ],
    effective_from: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Local date; default today.")
    ] = None,
) -> None:
    """Price a usage type by graduated tiers on each account's period total."""
    from billstream.core.money import to_micros
    from billstream.rating.allowances import Tier
    from billstream.rating.service import list_tiers, set_tiers
    from billstream.tenants.service import operator_scope

    parsed: list[Tier] = []
    for i, text in enumerate(tier):
        start, _, rate = text.partition(":")
        try:
            parsed.append(Tier(int(start), to_micros(Decimal(rate))))
        except (ValueError, ArithmeticError):
            raise InvalidInputError(
                f"{text!r} is not FROM:RATE with whole FROM and a rate of <= 6 places",
                field=f"tier[{i}]",
            ) from None
    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        scope = operator_scope(session, target.id)
        set_tiers(
            session,
            clock=runtime.clock,
            scope=scope,
            tenant_id=target.id,
            usage_type=usage_type,
            tiers=parsed,
            effective_from=effective_from.date() if effective_from else None,
        )
        table = Table(
            "usage", "from", "set", "from quantity", "rate", title=f"Tiers of {target.slug}"
        )
        for row in list_tiers(session, scope=scope, tenant_id=target.id):
            table.add_row(
                row.usage_type,
                f"{row.effective_from:%Y-%m-%d %H:%M %Z}",
                row.set_id,
                str(row.from_quantity),
                f"{Decimal(row.rate_micros).scaleb(-6).normalize():f}",
            )
    console().print(table)


def _rate_usage(
    tenant: str, start: datetime, end: datetime, account: str | None, *, rerate: bool
) -> None:
    from billstream.rating.service import RatingRequest, rate_period
    from billstream.tenants.service import operator_scope

    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        request = RatingRequest(
            tenant_id=target.id,
            start=start.date(),
            end=end.date(),
            account_id=account_ref(session, account).id if account else None,
            rerate=rerate,
        )
        run = rate_period(
            session,
            clock=runtime.clock,
            scope=operator_scope(session, target.id),
            request=request,
            data_dir=runtime.settings.data_dir,
        )
    table = Table(
        "run", "version", "rated", "rejected", "retail", "cost", "replaced", title="Rating"
    )
    amounts = (run.retail_micros, run.cost_micros, run.superseded_micros)
    table.add_row(
        run.id,
        str(run.version),
        str(run.rated),
        str(run.rejected),
        *(f"{Decimal(a).scaleb(-6):f} {run.currency}" for a in amounts),
    )
    console().print(table)


TenantOption = Annotated[str, typer.Option(help="The tenant (slug or id).")]
FromDay = Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day.")]
ToDay = Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Day after.")]


def _decimal_option(text: str, *, option: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:
        raise InvalidInputError(f"{text!r} is not a number", field=option) from None


def _margin_rules_table(session: Session, target: Tenant) -> Table:
    from billstream.rating.service import list_margin_rules
    from billstream.tenants.service import operator_scope

    table = Table(
        "usage",
        "prefix",
        "from",
        "percent",
        "min margin",
        "rule",
        title=f"Margin rules of {target.slug}",
    )
    rules: list[MarginRule] = list_margin_rules(
        session, scope=operator_scope(session, target.id), tenant_id=target.id
    )
    for rule in rules:
        minimum = rule.min_margin_micros
        table.add_row(
            rule.usage_type or "all",
            rule.prefix or "all",
            f"{rule.effective_from:%Y-%m-%d %H:%M %Z}",
            "ended" if rule.percent is None else f"{rule.percent.normalize():f}",
            "-" if minimum is None else f"{Decimal(minimum).scaleb(-6).normalize():f}",
            rule.id,
        )
    return table


@ratecard_app.command("margin-rule")
@fails_cleanly
def ratecard_margin_rule(
    tenant: TenantOption,
    percent: Annotated[str, typer.Option(help="Margin on carrier cost in percent, e.g. 12.5.")],
    prefix: Annotated[
        str | None, typer.Option(help="Only destinations with this prefix, e.g. 44.")
    ] = None,
    usage_type: Annotated[str | None, typer.Option(help="Default: every usage type.")] = None,
    min_margin: Annotated[
        str | None, typer.Option(help="At least this over cost per minute (unit), e.g. 0.002.")
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option(
            "--from", "--effective-from", formats=["%Y-%m-%d"], help="Local date; default today."
        ),
    ] = None,
) -> None:
    """Price the usage no special rate and no retail card rates at its carrier cost plus a
    percentage (its brands inherit the rule), then list the tenant's own margin rules."""
    from billstream.core.money import to_micros
    from billstream.rating.service import set_margin_rule
    from billstream.tenants.service import operator_scope

    margin = _decimal_option(percent, option="percent")
    minimum: int | None = None
    if min_margin is not None:
        try:
            minimum = to_micros(_decimal_option(min_margin, option="min-margin"))
        except ValueError:
            raise InvalidInputError(
                "a minimum margin has at most 6 decimal places", field="min-margin"
            ) from None
    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        set_margin_rule(
            session,
            clock=runtime.clock,
            scope=operator_scope(session, target.id),
            tenant_id=target.id,
            percent=margin,
            usage_type=usage_type,
            prefix=prefix,
            min_margin_micros=minimum,
            effective_from=start.date() if start else None,
        )
        table = _margin_rules_table(session, target)
    console().print(table)


@ratecard_app.command("margin-rule-end")
@fails_cleanly
def ratecard_margin_rule_end(
    tenant: TenantOption,
    prefix: Annotated[str | None, typer.Option(help="The rule of this prefix.")] = None,
    usage_type: Annotated[str | None, typer.Option(help="The rule of this usage type.")] = None,
    start: Annotated[
        datetime | None,
        typer.Option(
            "--from", "--effective-from", formats=["%Y-%m-%d"], help="Local date; default today."
        ),
    ] = None,
) -> None:
    """End a margin rule from a date (usage from then on falls to the next rule that matches
    it, or none), then list the tenant's own margin rules."""
    from billstream.rating.service import end_margin_rule
    from billstream.tenants.service import operator_scope

    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        end_margin_rule(
            session,
            clock=runtime.clock,
            scope=operator_scope(session, target.id),
            tenant_id=target.id,
            usage_type=usage_type,
            prefix=prefix,
            effective_from=start.date() if start else None,
        )
        table = _margin_rules_table(session, target)
    console().print(table)


@ratecard_app.command("margin-rules")
@fails_cleanly
def ratecard_margin_rules(tenant: TenantOption) -> None:
    """List a tenant's own margin rules (its brands inherit them)."""
    with unit_of_work() as (_runtime, session):
        table = _margin_rules_table(session, tenant_ref(session, tenant, option="tenant"))
    console().print(table)


@usage_app.command("rate")
@fails_cleanly
def usage_rate(
    tenant: TenantOption,
    start: FromDay,
    end: ToDay,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
) -> None:
    """Rate the period's accepted usage at retail and cost (refused if already rated)."""
    _rate_usage(tenant, start, end, account, rerate=False)


@usage_app.command("rerate")
@fails_cleanly
def usage_rerate(
    tenant: TenantOption,
    start: FromDay,
    end: ToDay,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
) -> None:
    """Re-rate a period as a new version: the earlier rows are superseded, never charged twice."""
    _rate_usage(tenant, start, end, account, rerate=True)


@usage_app.command("margin")
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
    from billstream.tenants.service import operator_scope

    if by not in {b.value for b in MarginBy}:
        raise InvalidInputError("--by is carrier, destination or customer", field="by")
    with unit_of_work() as (_runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        report = margin_report(
            session,
            scope=operator_scope(session, target.id),
            tenant_id=target.id,
            group_by=MarginBy(by),
            start=start.date(),
            end=end.date(),
            limit=limit,
        )
    table = Table(
        by, "", "records", "minutes", "retail", "cost", "margin", "uncosted", title="Margin"
    )

    def money(micros: int, currency: str) -> str:
        return f"{Decimal(micros).scaleb(-6):f} {currency}"

    rows = [(g, False) for g in report.groups] + [(t, True) for t in report.totals]
    for group, total in rows:
        table.add_row(
            "total" if total else (group.key or "-"),
            group.label or "",
            str(group.records),
            f"{group.billed_minutes.normalize():f}",
            money(group.retail_micros, group.currency),
            money(group.cost_micros, group.currency),
            money(group.margin_micros, group.currency),
            str(group.uncosted),
            end_section=group is report.groups[-1] if report.groups else False,
        )
    console().print(table)
    if report.truncated:
        console().print(f"(more than {limit} groups; raise --limit)", markup=False)


# --- bill runs -----------------------------------------------------------------------------

billrun_app = typer.Typer(
    help="Bill runs: invoices for the cycles that close.", no_args_is_help=True
)
app.add_typer(billrun_app, name="billrun")
tax_app = typer.Typer(help="Tax rates by jurisdiction.", no_args_is_help=True)
app.add_typer(tax_app, name="tax")


def _run_tenants(session: Session, tenant: str | None) -> list[Tenant]:
    """The tenant named and its brands, or every tenant: each has its own runs."""
    from billstream.tenants.service import all_tenants, subtree_ids

    if tenant is None:
        return list(all_tenants(session))
    root = tenant_ref(session, tenant, option="tenant")
    ids = subtree_ids(session, root.id)
    return [t for t in all_tenants(session) if t.id in ids]


def show_dry_run(session: Session, tenant: Tenant, result: DryRun) -> None:
    from sqlalchemy import select

    from billstream.accounts.models import Account

    names = dict(
        session.execute(
            select(Account.id, Account.name).where(
                Account.id.in_([d.account_id for d in result.invoices])
            )
        ).all()
    )
    table = Table("account", "lines", "subtotal", "tax", "total", title=f"Dry run: {tenant.slug}")
    for draft in result.invoices:
        table.add_row(
            names.get(draft.account_id, draft.account_id),
            str(len(draft.lines)),
            f"{draft.subtotal} {draft.currency}",
            f"{draft.tax_total}",
            f"{draft.total} {draft.currency}",
        )
    console().print(table)
    for failure in result.failures:
        console().print(f"[red]{failure.account_id}: {failure.code}: {failure.message}[/red]")


@billrun_app.command("run")
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
    from sqlalchemy import select

    from billstream.accounts.models import Account
    from billstream.billing.service import BillRunRequest, failed_items
    from billstream.billing.service import dry_run as dry
    from billstream.jobs.bill_runs import check_workers, execute_bill_run
    from billstream.subscriptions.service import CLI_ACTOR, local_today
    from billstream.tenants.service import operator_scope

    with command_runtime() as runtime:
        try:
            check_workers(runtime.engine.url, workers)
        except InvalidInputError as exc:
            raise typer.BadParameter(exc.detail, param_hint="'--workers'") from None
        with runtime.session_factory() as session:
            tenants = _run_tenants(session, tenant)
            accounts = [account_ref(session, a).id for a in account or []]
            if accounts:
                owners = set(
                    session.scalars(select(Account.tenant_id).where(Account.id.in_(accounts)))
                )
                tenants = [t for t in tenants if t.id in owners]
            plan = [
                (
                    t,
                    operator_scope(session, t.id),
                    day.date()
                    if day
                    else local_today(session, runtime.clock, t.id) - timedelta(days=1),
                )
                for t in tenants
            ]
            if dry_run:
                for target, scope, closed in plan:
                    request = BillRunRequest(
                        tenant_id=target.id,
                        day=closed,
                        accounts=tuple(accounts),
                        all_accounts=all_accounts,
                    )
                    show_dry_run(
                        session, target, dry(session, runtime.clock, scope=scope, request=request)
                    )
                return
        summaries = []
        with Progress(console=console(stderr=True), transient=True) as progress:
            for target, scope, closed in plan:
                task = progress.add_task(target.slug, total=None)

                def advance(done: int, total: int, task: TaskID = task) -> None:
                    progress.update(task, completed=done, total=total or 1)

                request = BillRunRequest(
                    tenant_id=target.id,
                    day=closed,
                    accounts=tuple(a for a in accounts),
                    all_accounts=all_accounts,
                    key=key,
                )
                summaries.append(
                    (
                        target,
                        execute_bill_run(
                            runtime.session_factory,
                            runtime.clock,
                            scope=scope,
                            request=request,
                            actor=CLI_ACTOR,
                            chunk=chunk,
                            workers=workers,
                            progress=advance,
                        ),
                    )
                )
        table = Table(
            "tenant",
            "run",
            "key",
            "accounts",
            "invoiced",
            "nothing due",
            "failed",
            title="Bill runs",
        )
        for target, summary in summaries:
            table.add_row(
                target.slug,
                summary.run_id,
                summary.key,
                *(str(n) for n in (summary.accounts, summary.invoiced, summary.nothing_due)),
                f"[red]{summary.failed}[/red]" if summary.failed else "0",
            )
        console().print(table)
        with runtime.session_factory() as session:
            for target, summary in summaries:
                for item in failed_items(session, summary.run_id):
                    console().print(
                        f"[red]{target.slug} {item.account_id}: {item.error_code}: "
                        f"{item.error}[/red]"
                    )


@tax_app.command("set")
@fails_cleanly
def tax_set(
    tenant: TenantOption,
    jurisdiction: Annotated[str, typer.Option(help="GB, US, US-CA…")],
    name: Annotated[str, typer.Option(help="e.g. VAT.")],
    rate: Annotated[str, typer.Option(help="Percent, e.g. 20.")],
    start: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day in force.")
    ],
) -> None:
    """Tax a jurisdiction at a percentage from a date (the previous rule ends that day)."""
    from billstream.billing.service import set_tax_rate
    from billstream.tenants.service import operator_scope

    with unit_of_work() as (runtime, session):
        target = tenant_ref(session, tenant, option="tenant")
        try:
            percent = Decimal(rate)
        except ArithmeticError:
            raise InvalidInputError(f"{rate!r} is not a number", field="rate") from None
        rule = set_tax_rate(
            session,
            runtime.clock,
            scope=operator_scope(session, target.id),
            tenant_id=target.id,
            jurisdiction=jurisdiction,
            name=name,
            rate=percent,
            effective_from=start.date(),
        )
        console().print(
            f"{rule.jurisdiction} {rule.name} {rule.rate.normalize():f}% from {rule.effective_from}"
        )


# --- server and demo ---------------------------------------------------------------------


# seconds a `serve --workers` process may take to import the app and answer; uvicorn's
# default of 5 s is shorter than that import on a busy machine, and the worker is then killed
WORKER_STARTUP_S = 60


@app.command("serve")
@fails_cleanly
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Processes serving requests.")] = 1,
) -> None:
    """Run the REST API (OpenAPI docs at /docs)."""
    import uvicorn

    from billstream.app import create_app
    from billstream.db import migrate

    with command_runtime() as runtime:
        current, head = migrate.current_revision(runtime.engine), migrate.head_revision()
        if current != head:
            raise InvalidInputError(
                f"at revision {current or 'none'}, not {head}; run `billstream db upgrade` first",
                field="database",
            )
        console().print(
            f"billstream API on http://{host}:{port}/v1 - OpenAPI docs at http://{host}:{port}/docs",
            markup=False,
            highlight=False,
        )
        if workers == 1:
            uvicorn.run(create_app(runtime), host=host, port=port)
        else:  # each worker process imports the app factory and builds its own runtime
            factory = f"{create_app.__module__}:{create_app.__name__}"
            uvicorn.run(
                factory,
                factory=True,
                host=host,
                port=port,
                workers=workers,
                timeout_worker_healthcheck=WORKER_STARTUP_S,
            )


@app.command("demo")
@fails_cleanly
def demo(
    accounts: Annotated[int, typer.Option(min=6, help="Accounts across all brands.")] = 1_000,
    cdrs: Annotated[int, typer.Option(min=0, help="CDRs generated for January.")] = 1_000_000,
    pdfs: Annotated[int, typer.Option(min=0, help="Invoice PDFs to render (~0.3 s each).")] = 30,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 7,
) -> None:
    """Set up a sample provider (three brands, catalogue, rate cards, accounts, numbers), run
    its January (CDRs through mediation and rating, bill runs, invoice PDFs) and show it."""
    from billstream.demo import DEMO_START, DemoOptions, run_demo

    clock = FakeClock(DEMO_START)
    progress = console(stderr=True)
    with command_runtime(clock=clock, create=True) as runtime:
        options = DemoOptions(
            accounts=accounts,
            cdrs=cdrs,
            pdfs=pdfs,
            seed=seed,
            data_dir=Path(runtime.settings.data_dir),
            formats_dir=runtime.settings.resolved_formats_dir(),
        )
        shown = run_demo(
            runtime.session_factory,
            clock=clock,
            options=options,
            announce=lambda text: progress.print(f"... {text}", markup=False, highlight=False),
        )
    out = console()
    for renderable in shown:
        out.print(renderable, highlight=False)
