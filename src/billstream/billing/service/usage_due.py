"""The rated usage a bill run charges: what rating periods of a chunk's accounts are still
unsettled, and their current records summed per sub-account, period, usage type and
destination, less what earlier invoices charged (see `due`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, case, cast, func, select
from sqlalchemy.orm import Session

from billstream.billing.assembly import UsageAggregate, usage_base_key, usage_key
from billstream.billing.models import Invoice, InvoicedUsageRun, InvoiceLine
from billstream.catalog.price_models import EventSplit, EventTotals
from billstream.db.lists import among
from billstream.rating.models import Rate, RatedUsage, RatingRun
from billstream.rating.rater import TIME_USAGE
from billstream.subscriptions.charges import LineKind

IN_CHUNK = 2000  # ids per IN (...) list
MIXED_CURRENCIES = "several currencies"  # of an aggregate whose runs differ in currency


def chunked(values: Sequence[str], size: int = IN_CHUNK) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


@dataclass(frozen=True, slots=True)
class RunPeriod:
    """A rating run's period and currency."""

    start: datetime
    end: datetime
    currency: str


@dataclass(slots=True)
class UsageRuns:
    """Which rating periods of a chunk's accounts a run must read, and which runs it settles.

    A rating run holds the records of one period, for the tenant or for one account (a
    re-rating). An account's period is settled when every run of the period that may hold its
    records (the tenant's, and the account's own) is recorded in `invoiced_usage_runs` for it:
    its current records are then all in runs an earlier invoice summed, so they owe nothing
    new and are not read again. A re-rating adds a run, which unsettles the period. The runs
    are read before the records, so a run recorded as settled was visible to the sums."""

    since: datetime  # the start of the first unsettled period
    unsettled: dict[str, set[datetime]] = field(default_factory=dict)  # periods, by account
    to_settle: dict[str, list[str]] = field(default_factory=dict)  # run ids, by account
    runs: dict[str, RunPeriod] = field(default_factory=dict)  # the runs read, by id

    @classmethod
    def of(
        cls,
        session: Session,
        tenant_id: str,
        accounts: Sequence[str],
        *,
        since: datetime,
        until: datetime,
    ) -> UsageRuns:
        rows = session.execute(
            select(
                RatingRun.id,
                RatingRun.account_id,
                RatingRun.period_start,
                RatingRun.period_end,
                RatingRun.currency,
            ).where(
                RatingRun.tenant_id == tenant_id,
                RatingRun.period_end <= until,
                RatingRun.period_end > since,
            )
        ).all()
        shared: dict[datetime, set[str]] = {}  # the tenant's runs, by period
        own: dict[str, dict[datetime, set[str]]] = {}  # accounts' runs, by account and period
        wanted = set(accounts)
        for run_id, account, start, _end, _currency in rows:
            if account is None:
                shared.setdefault(start, set()).add(run_id)
            elif account in wanted:
                own.setdefault(account, {}).setdefault(start, set()).add(run_id)
        done: dict[str, set[str]] = {}
        if rows:
            for chunk in chunked(accounts):
                for account, run_id in session.execute(
                    select(InvoicedUsageRun.account_id, InvoicedUsageRun.run_id).where(
                        among(session, InvoicedUsageRun.account_id, chunk)
                    )
                ):
                    done.setdefault(account, set()).add(run_id)
        out = cls(since=until)
        out.runs = {r.id: RunPeriod(r.period_start, r.period_end, r.currency) for r in rows}
        for account in accounts:
            periods = {start: set(ids) for start, ids in shared.items()}
            for start, ids in own.get(account, {}).items():
                periods.setdefault(start, set()).update(ids)
            settled = done.get(account, set())
            for start, ids in periods.items():
                if ids <= settled:
                    continue
                out.unsettled.setdefault(account, set()).add(start)
                out.to_settle.setdefault(account, []).extend(sorted(ids - settled))
                out.since = min(out.since, start)
        return out


def usage_due(
    session: Session, pending: UsageRuns, *, tenant_id: str, zone: ZoneInfo
) -> list[UsageAggregate]:
    """Current rated usage of rating periods ended by the close and not settled (see
    `UsageRuns`), summed per sub-account, period, usage type and destination, less what
    earlier invoices charged for it.

    The database sums the records of each rating run, so a row read is one aggregate
    (or its part in one run: rating gives an account's period one current run, a
    re-rating another). Should two runs in different currencies ever be current for one
    aggregate, it gets no currency and its payer fails (rather than billing a sum of two
    currencies)."""
    accounts = sorted(pending.unsettled)
    if not accounts:
        return []
    since = pending.since  # the first unsettled period of any of them
    group = func.coalesce(Rate.description, RatedUsage.usage_type)
    timed = RatedUsage.usage_type.in_(sorted(TIME_USAGE))
    rows: list[Any] = []
    for chunk in chunked(accounts):
        stmt = (
            select(
                RatedUsage.account_id,
                RatedUsage.run_id,
                RatedUsage.usage_type,
                group,
                func.count(),
                _whole(func.sum(case((timed, RatedUsage.duration_s), else_=RatedUsage.quantity))),
                _whole(func.sum(RatedUsage.billed_s + RatedUsage.billed_units)),
                _whole(func.sum(RatedUsage.allowance_s + RatedUsage.allowance_units)),
                _whole(func.sum(RatedUsage.amount_micros)),
            )
            .outerjoin(Rate, Rate.id == RatedUsage.rate_id)
            .where(
                among(session, RatedUsage.account_id, chunk),
                among(session, RatedUsage.run_id, sorted(pending.runs)),
                RatedUsage.tenant_id == tenant_id,
                RatedUsage.superseded_by.is_(None),
                RatedUsage.reject_reason.is_(None),
                RatedUsage.started_at >= since,
            )
            .group_by(RatedUsage.account_id, RatedUsage.run_id, RatedUsage.usage_type, group)
        )
        rows += session.connection().execute(stmt).all()
    invoiced, revisions = _invoiced_usage(
        session, tenant_id, accounts, since.astimezone(zone).date()
    )
    days = {  # a run's period as local dates, once each
        run_id: (run.start.astimezone(zone).date(), run.end.astimezone(zone).date())
        for run_id, run in pending.runs.items()
    }
    first: dict[tuple[str, date, str, str], Any] = {}  # each aggregate's first row
    more: dict[tuple[str, date, str, str], list[Any]] = {}  # its rows, if several runs
    for row in rows:
        account, run_id = row[0], row[1]
        if pending.runs[run_id].start not in pending.unsettled[account]:
            continue  # a settled period of an account read for another's
        key = (account, days[run_id][0], row[2], row[3])
        if key in first:
            more.setdefault(key, [first[key]]).append(row)
        else:
            first[key] = row
    out = []
    for key, row in first.items():
        account, start, usage_type, destination = key
        found = more.get(key, [row])
        run_ids = tuple(sorted({r[1] for r in found}))
        currencies = {pending.runs[r].currency for r in run_ids}
        records, quantity, billed, free, micros = (
            row[4:] if len(found) == 1 else [sum(r[i] for r in found) for i in range(4, 9)]
        )
        done = usage_key(account, start, usage_type, destination) if invoiced else ""
        out.append(
            UsageAggregate(
                source_account_id=account,
                period_start=start,
                period_end=days[run_ids[0]][1],
                usage_type=usage_type,
                destination=destination,
                records=records,
                quantity=quantity,
                billed=billed,
                allowance=free,
                amount_micros=micros,
                run_ids=run_ids,
                currency=currencies.pop() if len(currencies) == 1 else MIXED_CURRENCIES,
                invoiced=invoiced.get(done, Decimal(0)),
                revisions=revisions.get(done, 0),
            )
        )
    return out


def usage_amounts(
    session: Session,
    *,
    tenant_id: str,
    accounts: Sequence[str],
    since: datetime | None,
    until: datetime,
    zone: ZoneInfo,
) -> dict[str, dict[date, Decimal]]:
    """The current rated usage amount of each account (unrounded), by the local date its
    rating period starts: the base of percentages of usage (`subscriptions.charges.Usage`).

    Rating periods ending by `until` (and after `since`, if given) count; the database sums
    each account's records per rating period (one row per account and period)."""
    out: dict[str, dict[date, Decimal]] = {}
    for chunk in chunked(sorted(set(accounts))):
        rows = session.connection().execute(
            select(
                RatedUsage.account_id,
                RatingRun.period_start,
                _whole(func.sum(RatedUsage.amount_micros)),
            )
            .join(RatingRun, RatingRun.id == RatedUsage.run_id)
            .where(*_current_rated(session, tenant_id, chunk, since=since, until=until))
            .group_by(RatedUsage.account_id, RatingRun.period_start)
        )
        for account, start, micros in rows.all():
            day = start.astimezone(zone).date()
            amounts = out.setdefault(account, {})
            amounts[day] = amounts.get(day, Decimal(0)) + Decimal(micros).scaleb(-6)
    return out


def _current_rated(
    session: Session,
    tenant_id: str,
    accounts: Sequence[str],
    *,
    since: datetime | None,
    until: datetime,
) -> list[Any]:
    """The current (not superseded), rated (not rejected) records of `accounts`, in rating
    periods ending by `until` and after `since`: the base of percentages of usage and events."""
    where = [
        among(session, RatedUsage.account_id, accounts),
        RatedUsage.tenant_id == tenant_id,
        RatedUsage.superseded_by.is_(None),
        RatedUsage.reject_reason.is_(None),
        RatingRun.period_end <= until,
    ]
    if since is not None:
        where.append(RatingRun.period_end > since)
    return where


def event_totals(
    session: Session,
    split: EventSplit,
    *,
    tenant_id: str,
    accounts: Sequence[str],
    since: datetime | None,
    until: datetime,
    zone: ZoneInfo,
) -> dict[str, dict[date, EventTotals]]:
    """The current rated records of each account split by `split` (a percentage of events'
    bounds per event) and summed, by the local date their rating period starts: the base of
    percentages of events (`subscriptions.charges.Events`). The database counts and sums
    them with integers alone, one row per account and rating period (the rating periods as
    in `usage_amounts`)."""
    micros = RatedUsage.amount_micros
    below = micros < split.below if split.below is not None else None
    above = micros > split.above if split.above is not None else None
    if split.flat:
        below = above = None
    outside = [c for c in (below, above) if c is not None]

    def count(condition: Any) -> Any:
        return _whole(func.sum(case((condition, 1), else_=0))) if condition is not None else 0

    between = case(*((c, 0) for c in outside), else_=micros) if outside else micros
    out: dict[str, dict[date, EventTotals]] = {}
    for chunk in chunked(sorted(set(accounts))):
        rows = session.connection().execute(
            select(
                RatedUsage.account_id,
                RatingRun.period_start,
                count(below),
                count(above),
                func.count(),
                _whole(func.sum(between)),
            )
            .join(RatingRun, RatingRun.id == RatedUsage.run_id)
            .where(*_current_rated(session, tenant_id, chunk, since=since, until=until))
            .group_by(RatedUsage.account_id, RatingRun.period_start)
        )
        for account, start, low, high, records, summed in rows.all():
            day = start.astimezone(zone).date()
            low, high = int(low or 0), int(high or 0)
            totals = EventTotals(low, high, int(records) - low - high, int(summed or 0))
            days = out.setdefault(account, {})
            days[day] = days.get(day, EventTotals()) + totals
    return out


def _invoiced_usage(
    session: Session, tenant_id: str, accounts: Sequence[str], since: date
) -> tuple[dict[str, Decimal], dict[str, int]]:
    invoiced: dict[str, Decimal] = {}
    revisions: dict[str, int] = {}
    for chunk in chunked(accounts):
        rows = session.connection().execute(
            select(InvoiceLine.line_key, InvoiceLine.amount)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(
                InvoiceLine.tenant_id == tenant_id,
                among(session, InvoiceLine.source_account_id, chunk),
                InvoiceLine.kind.in_([LineKind.USAGE, LineKind.USAGE_CORRECTION]),
                InvoiceLine.service_start >= since,
            )
        )
        for key, amount in rows.all():
            base = usage_base_key(key)
            invoiced[base] = invoiced.get(base, Decimal(0)) + amount
            revisions[base] = revisions.get(base, 0) + 1
    return invoiced, revisions


def _whole(total: Any) -> Any:
    """A SUM of integers read as an int (PostgreSQL's is numeric, read as a Decimal)."""
    return cast(total, BigInteger)
