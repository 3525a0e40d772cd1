"""Bill runs: which accounts close on a day, and billing them in chunks, resumably.

A run is started once per key (`start_bill_run`): it records every paying account to bill as
a pending item, in one transaction. Then `bill_pending` bills the next chunk of pending items
(a thousand, say) in one transaction: it locks those accounts, assembles what is due, writes
and issues the invoices, and marks the items; the caller commits after each chunk (see
`billstream.jobs.bill_runs`). A crash loses at most the chunk in flight, which is still pending,
so a resumed run bills it; a payer is never billed twice because each invoice line has a
unique natural key and the due lines are computed after the lock, from what is committed.
An account that fails (a broken subscription, a currency mismatch) is recorded as failed with
its error; the others are billed.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import and_, false, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from billstream.accounts.models import Account, AccountType, BillingCycle, BillingMode
from billstream.billing.assembly import InvoiceDraft
from billstream.billing.closing import ONE_DAY, closing_period
from billstream.billing.errors import BillingErrorCode
from billstream.billing.models import BillRun, BillRunItem, InvoicedUsageRun
from billstream.billing.service.due import DueLoader, DueResult, Failure, PayerPeriod
from billstream.billing.service.writing import ToWrite, write_invoices
from billstream.billing.states import ItemStatus, RunStatus
from billstream.core.clock import Clock
from billstream.core.errors import ConflictError, InvalidInputError, NotFoundError
from billstream.core.ids import new_id
from billstream.core.limits import check_day
from billstream.core.periods import BillingPeriod, Cadence, period_containing
from billstream.db.bulk import insert_rows
from billstream.db.locks import lock_rows, locked
from billstream.subscriptions.cycles import billing_anchor
from billstream.subscriptions.service import today_for
from billstream.tenants.context import TenantContext

CHUNK = 1000


@dataclass(frozen=True, slots=True)
class BillRunRequest:
    """What to bill: the accounts of `tenant_id` whose cycle closes on `day` (the default),
    every paying account (`all_accounts`), or the listed ones; `key` names the run."""

    tenant_id: str
    day: date
    accounts: tuple[str, ...] = ()
    all_accounts: bool = False
    key: str | None = None

    def default_key(self) -> str:
        if self.accounts:
            digest = hashlib.sha256(",".join(sorted(self.accounts)).encode()).hexdigest()
            return f"{self.day.isoformat()}:accounts:{digest[:16]}"
        return f"{self.day.isoformat()}:{'all' if self.all_accounts else 'cycle'}"

    def selection(self) -> dict[str, object]:
        if self.accounts:
            return {"accounts": sorted(self.accounts)}
        return {"all": True} if self.all_accounts else {}


@dataclass(slots=True)
class ChunkOutcome:
    invoiced: dict[str, str] = field(default_factory=dict)  # payer → invoice id
    nothing_due: list[str] = field(default_factory=list)
    failed: dict[str, Failure] = field(default_factory=dict)


class _Cycle(Protocol):
    billing_cycle: str
    billing_day: int


def _period(account: _Cycle, day: date, *, closing_only: bool) -> BillingPeriod | None:
    period = closing_period(account.billing_cycle, account.billing_day, day)
    if period is not None or closing_only:
        return period
    anchor = billing_anchor(account.billing_cycle, account.billing_day, day)
    start = period_containing(day, anchor=anchor, cadence=Cadence.MONTHLY).start
    return BillingPeriod(start, day + ONE_DAY)


def _closing_filter(day: date) -> object:
    """Accounts whose monthly period ends with `day`: calendar ones at a month's end, and
    anniversary ones whose billing day (clamped to the month's length) is the next day."""
    nxt = day + ONE_DAY
    last = calendar.monthrange(nxt.year, nxt.month)[1]
    anniversary = Account.billing_day == nxt.day
    if nxt.day == last:
        anniversary = or_(anniversary, Account.billing_day > last)
    calendar_close = Account.billing_cycle == BillingCycle.CALENDAR if nxt.day == 1 else false()
    return or_(calendar_close, and_(Account.billing_cycle == BillingCycle.ANNIVERSARY, anniversary))


def payers_to_bill(session: Session, request: BillRunRequest) -> list[PayerPeriod]:
    """The paying accounts the request bills, each with its invoice's period."""
    # the cycle columns only: a month-end run reads every paying account of the tenant
    base = select(Account.id, Account.billing_cycle, Account.billing_day).where(
        Account.tenant_id == request.tenant_id,
        Account.billing_mode == BillingMode.SELF_PAYING,
        Account.type != AccountType.VENDOR,
    )
    rows: Sequence[Any]
    if request.accounts:
        wanted = sorted(set(request.accounts))
        rows = list(
            session.scalars(
                select(Account).where(
                    Account.tenant_id == request.tenant_id, Account.id.in_(wanted)
                )
            )
        )
        found = {a.id: a for a in rows}
        for account_id in wanted:
            account = found.get(account_id)
            if account is None:
                raise NotFoundError(f"account {account_id} not found", field="accounts")
            if account.billing_mode != BillingMode.SELF_PAYING:
                raise InvalidInputError(
                    f"account {account.name} is billed to its parent: bill the paying account",
                    code=BillingErrorCode.NOT_PAYING,
                    field="accounts",
                )
    elif request.all_accounts:
        rows = session.execute(base).all()
    else:
        rows = session.execute(base.where(_closing_filter(request.day))).all()  # type: ignore[arg-type]
    closing_only = not (request.accounts or request.all_accounts)
    out = []
    for account in sorted(rows, key=lambda a: a.id):
        period = _period(account, request.day, closing_only=closing_only)
        if period is not None:
            out.append(PayerPeriod(account.id, period.start, period.end))
    return out


def check_request(clock: Clock, ctx: TenantContext, request: BillRunRequest) -> None:
    ctx.require(request.tenant_id)  # another tenant's id reads as unknown, as in a path
    if request.tenant_id != ctx.tenant_id:
        raise ValueError(f"a run of {request.tenant_id} in the context of {ctx.tenant_id}")
    check_day(request.day, field="date")  # the look-back reaches 400 days before it
    today = today_for(ctx.settings, clock)
    if request.day > today:
        raise InvalidInputError(
            f"{request.day} is after today ({today} in the tenant's time zone): "
            "a period is billed once it has closed",
            code=BillingErrorCode.FUTURE_DATE,
            field="date",
        )


def start_bill_run(
    session: Session, clock: Clock, *, ctx: TenantContext, request: BillRunRequest, actor: str
) -> BillRun:
    """The run of `request`'s key: started now with every account pending, or the one
    started before (to resume, or to return its result).

    Two callers starting the same key at once get the same run: the run is inserted with
    ``ON CONFLICT DO NOTHING``, so the later insert waits for the earlier transaction (on
    PostgreSQL; SQLite's BEGIN IMMEDIATE serialises them) and then finds its run.
    """
    check_request(clock, ctx, request)
    key = request.key or request.default_key()
    existing = _run_of_key(session, request, key)
    if existing is not None:
        return existing
    payers = payers_to_bill(session, request)
    run_id = new_id("brn")
    dialect = session.get_bind().dialect.name
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(BillRun)
    inserted = session.scalar(
        stmt.values(
            id=run_id,
            tenant_id=request.tenant_id,
            key=key,
            run_date=request.day,
            selection=request.selection(),
            status=RunStatus.RUNNING,
            accounts=len(payers),
            invoiced=0,
            nothing_due=0,
            failed=0,
            actor=actor,
            started_at=clock.now(),
            finished_at=None,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
        .returning(BillRun.id)
    )
    if inserted is None:
        # started by another caller meanwhile (its transaction is committed: we waited)
        raced = _run_of_key(session, request, key)
        assert raced is not None
        return raced
    insert_rows(
        session,
        BillRunItem.__table__,  # type: ignore[arg-type]
        ("id", "tenant_id", "run_id", "account_id", "period_start", "period_end", "status"),
        (
            (new_id("bri"), request.tenant_id, run_id, p.account_id, p.period_start,
             p.period_end, ItemStatus.PENDING.value)
            for p in payers
        ),
    )  # fmt: skip
    run = session.get(BillRun, run_id)
    assert run is not None
    return run


def _run_of_key(session: Session, request: BillRunRequest, key: str) -> BillRun | None:
    """The tenant's run of `key`, if any; refused if it bills another date."""
    run = session.scalar(
        select(BillRun).where(BillRun.tenant_id == request.tenant_id, BillRun.key == key)
    )
    if run is not None and run.run_date != request.day:
        raise ConflictError(
            f"bill run {key!r} already exists for {run.run_date}",
            code=BillingErrorCode.KEY_REUSED,
            field="key",
        )
    return run


def pending_count(session: Session, run_id: str) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                BillRunItem.run_id == run_id, BillRunItem.status == ItemStatus.PENDING
            )
        )
        or 0
    )


def wait_for_chunks_in_flight(session: Session, run_id: str) -> bool:
    """Wait until no other transaction holds a pending item of the run (a chunk another
    process is billing); whether an item is pending then (one whose chunk rolled back).

    `bill_pending` skips the items other processes hold, so finding none to claim does not
    mean the run is done: a process joining a run waits here before reading its outcome.
    Locks at most one item, until the transaction ends (SQLite's writer lock already
    serialises: nothing is in flight elsewhere)."""
    first_pending = session.scalar(
        locked(
            select(BillRunItem.id)
            .where(BillRunItem.run_id == run_id, BillRunItem.status == ItemStatus.PENDING)
            .order_by(BillRunItem.account_id)
            .limit(1)
        )
    )
    return first_pending is not None


def _lock_run(session: Session, run_id: str) -> BillRun:
    """The run's row, locked: two processes finishing the run take turns."""
    run = session.scalar(locked(select(BillRun).where(BillRun.id == run_id)))
    if run is None:
        raise NotFoundError(f"bill run {run_id} not found", field="run_id")
    return run


def _lock_accounts(session: Session, account_ids: Sequence[str]) -> None:
    """Lock the payers, in id order: a concurrent run billing the same accounts waits, then
    sees what this one committed (SQLite's writer lock already serialises)."""
    lock_rows(session, Account, account_ids)


def bill_periods(
    session: Session,
    clock: Clock,
    *,
    run: BillRun | None,
    tenant_id: str,
    day: date,
    periods: Sequence[PayerPeriod],
) -> ChunkOutcome:
    """Bill these payers now (locks them, assembles, writes and issues); the outcome."""
    _lock_accounts(session, [p.account_id for p in periods])
    due = DueLoader(session, tenant_id=tenant_id, close=day).load(periods)
    outcome = ChunkOutcome(failed=dict(due.failures))
    payers = [p.account_id for p in periods if p.account_id in due.drafts]
    outcome.nothing_due = [
        p.account_id
        for p in periods
        if p.account_id not in due.drafts and p.account_id not in due.failures
    ]
    try:
        with session.begin_nested():
            ids = _write(session, clock, run, tenant_id, day, due, payers)
        outcome.invoiced = dict(zip(payers, ids, strict=True))
    except DBAPIError:
        # one payer's write failed (e.g. a concurrent run billed a line first): write each
        # alone, so the failure stays with its account
        for payer in payers:
            try:
                with session.begin_nested():
                    (invoice_id,) = _write(session, clock, run, tenant_id, day, due, [payer])
                outcome.invoiced[payer] = invoice_id
            except DBAPIError as exc:
                outcome.failed[payer] = Failure(
                    payer, BillingErrorCode.WRITE_FAILED, str(exc.orig or exc)[:1000]
                )
    settled = [(p, outcome.invoiced.get(p)) for p in [*outcome.invoiced, *outcome.nothing_due]]
    insert_rows(
        session,
        InvoicedUsageRun.__table__,  # type: ignore[arg-type]
        ("account_id", "run_id", "tenant_id", "invoice_id", "bill_run_id"),
        (
            (account, rating_run, tenant_id, invoice_id, run.id if run else None)
            for payer, invoice_id in settled
            for account, rating_run in due.settled_runs.get(payer, ())
        ),
    )
    return outcome


def _write(
    session: Session,
    clock: Clock,
    run: BillRun | None,
    tenant_id: str,
    day: date,
    due: DueResult,
    payers: Sequence[str],
) -> list[str]:
    return write_invoices(
        session,
        clock,
        tenant_id=tenant_id,
        bill_run_id=run.id if run else None,
        invoices=[
            ToWrite(due.drafts[p], issue_date=day, due_date=due.due_dates[p]) for p in payers
        ],
    )


def bill_pending(session: Session, clock: Clock, *, run_id: str, limit: int = CHUNK) -> int:
    """Bill the next `limit` pending accounts of the run; how many were handled (0: done).

    The items are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: workers billing the
    same run each take other accounts (SQLite's single writer takes turns anyway).
    """
    run = session.get(BillRun, run_id)
    if run is None:
        raise NotFoundError(f"bill run {run_id} not found", field="run_id")
    items = list(
        session.scalars(
            locked(
                select(BillRunItem)
                .where(BillRunItem.run_id == run_id, BillRunItem.status == ItemStatus.PENDING)
                .order_by(BillRunItem.account_id)
                .limit(limit),
                skip_locked=True,
            )
        )
    )
    if not items:
        return 0
    periods = [PayerPeriod(i.account_id, i.period_start, i.period_end) for i in items]
    outcome = bill_periods(
        session, clock, run=run, tenant_id=run.tenant_id, day=run.run_date, periods=periods
    )
    updates = []
    for item in items:
        payer = item.account_id
        failure = outcome.failed.get(payer)
        if payer in outcome.invoiced:
            status = ItemStatus.INVOICED
        else:
            status = ItemStatus.FAILED if failure else ItemStatus.NOTHING_DUE
        updates.append(
            {
                "id": item.id,
                "status": status.value,
                "invoice_id": outcome.invoiced.get(payer),
                "error_code": failure.code[:64] if failure else None,
                "error": failure.message[:1000] if failure else None,
            }
        )
    _record_outcomes(session, updates)
    for item in items:  # updated under the ORM's feet
        session.expire(item)
    return len(items)


def _record_outcomes(session: Session, updates: list[dict[str, Any]]) -> None:
    """Set each claimed item's outcome: one statement on PostgreSQL (not one per item)."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(update(BillRunItem), updates)
        return
    columns = ("id", "status", "invoice_id", "error_code", "error")
    session.execute(
        text(
            "UPDATE bill_run_items SET status = v.status, invoice_id = v.invoice_id, "
            "error_code = v.error_code, error = v.error FROM unnest(CAST(:id AS text[]), "
            "CAST(:status AS text[]), CAST(:invoice_id AS text[]), "
            "CAST(:error_code AS text[]), CAST(:error AS text[])) "
            "AS v(id, status, invoice_id, error_code, error) WHERE bill_run_items.id = v.id"
        ),
        {c: [u[c] for u in updates] for c in columns},
    )


BILLED_TABLES = ("invoice_lines", "invoices", "bill_run_items")


def refresh_statistics(session: Session) -> None:
    """Let PostgreSQL's planner see what a run is writing (a no-op on SQLite).

    A run reads the invoice lines of the subscriptions it bills (`due.invoiced_lines`) while
    it writes thousands more. Planned with statistics of a small or empty table (the first
    runs of a tenant), a list of 1,000 subscription ids looks like most of the table and the
    read becomes a sequential scan that grows with every chunk (docs/performance.md).
    Autovacuum analyses the table eventually, not within the run, so the run driver asks for
    it (`jobs.bill_runs`)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(BILLED_TABLES)}"))


def finish_bill_run(session: Session, clock: Clock, *, run_id: str) -> BillRun:
    """Count the outcomes; the run is completed once nothing is pending."""
    run = _lock_run(session, run_id)
    counts = dict(
        session.execute(
            select(BillRunItem.status, func.count())
            .where(BillRunItem.run_id == run_id)
            .group_by(BillRunItem.status)
        ).all()
    )
    run.invoiced = counts.get(ItemStatus.INVOICED, 0)
    run.nothing_due = counts.get(ItemStatus.NOTHING_DUE, 0)
    run.failed = counts.get(ItemStatus.FAILED, 0)
    if not counts.get(ItemStatus.PENDING) and run.status != RunStatus.COMPLETED:
        run.status = RunStatus.COMPLETED
        run.finished_at = clock.now()
    session.flush()
    return run


@dataclass(frozen=True, slots=True)
class DryRun:
    request: BillRunRequest
    accounts: int
    invoices: list[InvoiceDraft]
    failures: list[Failure]


def dry_run(
    session: Session, clock: Clock, *, ctx: TenantContext, request: BillRunRequest
) -> DryRun:
    """The invoices the request would issue now, without writing anything."""
    check_request(clock, ctx, request)
    periods = payers_to_bill(session, request)
    loader = DueLoader(session, tenant_id=request.tenant_id, close=request.day)
    drafts: list[InvoiceDraft] = []
    failures: list[Failure] = []
    for i in range(0, len(periods), CHUNK):
        due = loader.load(periods[i : i + CHUNK])
        drafts += due.drafts.values()
        failures += due.failures.values()
    return DryRun(request, len(periods), drafts, failures)


def run_in_one_transaction(
    session: Session, clock: Clock, *, ctx: TenantContext, request: BillRunRequest, actor: str
) -> BillRun:
    """Start (or resume) and finish a run inside the caller's transaction: for the API and a
    few accounts. Large runs go through `billstream.jobs.bill_runs`, a commit per chunk."""
    run = start_bill_run(session, clock, ctx=ctx, request=request, actor=actor)
    while bill_pending(session, clock, run_id=run.id):
        pass
    return finish_bill_run(session, clock, run_id=run.id)
