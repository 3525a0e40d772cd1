"""Margin of dual rating: retail against carrier cost, per carrier, destination or customer.

A read-only report over the current rated rows (never the ones a re-rating superseded, never
rejects) of a period of local days. One SQL ``GROUP BY``: money is BIGINT micro-units in the
table, so every sum is exact on both databases. Per group: records, billed seconds (and minutes),
retail, cost and margin = retail - cost. A record without a cost (its carrier has no cost card,
or one in another currency) adds its retail and no cost; the group counts it as `uncosted`, so
a margin flattered by missing costs shows. Currencies are never summed together: the currency
is part of every group.

Aggregates do not page by cursor: groups come ordered by margin, largest first (then by key),
at most `limit` of them, `truncated` saying whether more exist; the totals always cover all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from billstream.accounts.models import Account
from billstream.core.errors import InvalidInputError
from billstream.rating.models import Rate, RatedUsage, RatingRun
from billstream.rating.service.cards import local_midnight
from billstream.tenants.context import TenantContext

__all__ = ["MarginBy", "MarginGroup", "MarginReport", "margin_report"]

MAX_GROUPS = 10_000


class MarginBy(StrEnum):
    CARRIER = "carrier"
    DESTINATION = "destination"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class MarginGroup:
    key: str | None  # carrier name, matched prefix (a margin rule's: the cost's) or account id
    label: str | None  # the rate's description, the account's name
    currency: str
    records: int
    uncosted: int  # records without a cost amount
    billed_s: int
    billed_units: int
    retail_micros: int
    cost_micros: int

    @property
    def margin_micros(self) -> int:
        return self.retail_micros - self.cost_micros

    @property
    def billed_minutes(self) -> Decimal:
        return Decimal(self.billed_s) / 60


@dataclass(frozen=True)
class MarginReport:
    tenant_id: str
    group_by: MarginBy
    groups: list[MarginGroup]
    totals: list[MarginGroup]  # one per currency, key and label null
    truncated: bool


def margin_report(
    session: Session,
    *,
    ctx: TenantContext,
    group_by: MarginBy,
    start: date | None = None,
    end: date | None = None,
    limit: int = 1_000,
) -> MarginReport:
    """The margin of the tenant's current rated usage of local days ``[start, end)`` (no
    `start`: from the first record; no `end`: to the last)."""
    tenant_id = ctx.tenant_id
    if start is not None and end is not None and end <= start:
        raise InvalidInputError("the period must end after it starts", field="to")
    if not 1 <= limit <= MAX_GROUPS:
        raise InvalidInputError(f"limit is 1 to {MAX_GROUPS}", field="limit")
    timezone = ctx.timezone
    where = _current(
        tenant_id,
        local_midnight(start, timezone) if start else None,
        local_midnight(end, timezone) if end else None,
    )
    key, label, joined = _grouping(group_by)
    stmt = joined(select(key.label("key"), label.label("label"), *_measures())).where(*where)
    stmt = stmt.group_by(key, RatedUsage.currency).order_by(_margin().desc(), key)
    rows = session.execute(stmt.limit(limit + 1)).all()
    totals_stmt = (
        select(literal(None).label("key"), literal(None).label("label"), *_measures())
        .where(*where)
        .group_by(RatedUsage.currency)
        .order_by(RatedUsage.currency)
    )
    totals = [_group(r) for r in session.execute(totals_stmt)]
    return MarginReport(
        tenant_id=tenant_id,
        group_by=group_by,
        groups=[_group(r) for r in rows[:limit]],
        totals=totals,
        truncated=len(rows) > limit,
    )


def _current(
    tenant_id: str, start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    # through the tenant's runs that overlap the period: rated_usage is indexed by run
    runs = select(RatingRun.id).where(RatingRun.tenant_id == tenant_id)
    where = [
        RatedUsage.tenant_id == tenant_id,
        RatedUsage.superseded_by.is_(None),
        RatedUsage.reject_reason.is_(None),
    ]
    if start is not None:
        runs = runs.where(RatingRun.period_end > start)
        where.append(RatedUsage.started_at >= start)
    if end is not None:
        runs = runs.where(RatingRun.period_start < end)
        where.append(RatedUsage.started_at < end)
    return [RatedUsage.run_id.in_(runs), *where]


def _cost() -> ColumnElement[Any]:
    return func.coalesce(func.sum(RatedUsage.cost_micros), 0)


def _margin() -> ColumnElement[Any]:
    return func.sum(RatedUsage.amount_micros) - _cost()


def _measures() -> list[ColumnElement[Any]]:
    return [
        RatedUsage.currency.label("currency"),
        func.count().label("records"),
        func.sum(case((RatedUsage.cost_micros.is_(None), 1), else_=0)).label("uncosted"),
        func.sum(RatedUsage.billed_s).label("billed_s"),
        func.sum(RatedUsage.billed_units).label("billed_units"),
        func.sum(RatedUsage.amount_micros).label("retail_micros"),
        _cost().label("cost_micros"),
    ]


Join = Any  # a function adding the grouping's joins to a select


def _grouping(by: MarginBy) -> tuple[Any, ColumnElement[Any], Join]:
    if by is MarginBy.CARRIER:
        return RatedUsage.carrier, func.max(RatedUsage.carrier), lambda s: s
    if by is MarginBy.DESTINATION:
        # a record priced by a margin rule has no retail rate: its cost rate's prefix and
        # description name its destination
        cost_rate = aliased(Rate)

        def with_rates(stmt: Select[Any]) -> Select[Any]:
            return stmt.outerjoin(Rate, Rate.id == RatedUsage.rate_id).outerjoin(
                cost_rate, cost_rate.id == RatedUsage.cost_rate_id
            )

        key = func.coalesce(RatedUsage.matched_prefix, RatedUsage.cost_prefix)
        label = func.coalesce(func.max(Rate.description), func.max(cost_rate.description))
        return key, label, with_rates

    def with_account(stmt: Select[Any]) -> Select[Any]:
        return stmt.outerjoin(Account, Account.id == RatedUsage.account_id)

    return RatedUsage.account_id, func.max(Account.name), with_account


def _group(row: Any) -> MarginGroup:
    return MarginGroup(
        key=row.key,
        label=row.label,
        currency=row.currency,
        records=int(row.records),
        uncosted=int(row.uncosted or 0),
        billed_s=int(row.billed_s or 0),
        billed_units=int(row.billed_units or 0),
        retail_micros=int(row.retail_micros or 0),
        cost_micros=int(row.cost_micros or 0),
    )
