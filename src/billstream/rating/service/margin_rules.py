"""A tenant's margin rules, inherited by its brands: retail = carrier cost + x % (SPEC C6).

A rule prices only the records no customer special rate and no retail card rates, from their
cost (see `margin_pricing` for the arithmetic and which rule wins). Like rounding rules, rules
are versioned by date and never updated in place: a rule is in force from its
`effective_from` (the owning tenant's local midnight) until the next rule of the same tenant,
usage type and prefix starts, or its end (a row without a percent). A brand uses its own
rules first, then its ancestors' (resolved by `tenants.inheritance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.core.clock import Clock
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.core.ids import new_id
from billstream.core.limits import MAX_RATE
from billstream.rating.margin_pricing import (
    MarginRule,
    margin_rules_frame,
    percent_problem,
    prefix_problem,
)
from billstream.rating.models import MarginRule as MarginRuleRow
from billstream.rating.service.rules import checked_usage_type, rule_starts
from billstream.tenants.context import TenantContext
from billstream.tenants.inheritance import Resolved, Version, candidates, instant
from billstream.tenants.tree import TenantTree

__all__ = [
    "end_margin_rule",
    "list_margin_rules",
    "margin_rule_versions",
    "margin_rules_in_force",
    "set_margin_rule",
]


def _percent(percent: Decimal) -> Decimal:
    problem = percent_problem(percent)
    if problem is not None:
        raise InvalidInputError(f"{problem}, got {percent}", field="percent")
    return percent


def _prefix(prefix: str | None) -> str | None:
    if prefix is None:
        return None
    digits = prefix.strip().removeprefix("+")
    problem = prefix_problem(digits)
    if problem is not None:
        raise InvalidInputError(problem, field="prefix")
    return digits


def _usage_type(usage_type: str | None) -> str | None:
    kind = checked_usage_type(usage_type)
    if kind is not None and not kind.isidentifier():
        raise InvalidInputError(f"{kind!r} is not a usage type", field="usage_type")
    return kind


def _min_margin(micros: int | None) -> int | None:
    if micros is not None and not 0 <= micros <= MAX_RATE * 1_000_000:
        raise InvalidInputError(f"a minimum margin is 0 to {MAX_RATE}", field="min_margin")
    return micros


def set_margin_rule(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    percent: Decimal,
    usage_type: str | None = None,
    prefix: str | None = None,
    min_margin_micros: int | None = None,
    effective_from: date | None = None,
) -> MarginRuleRow:
    """Price the records of `tenant_id` (and of its brands) that no card rates at their cost
    plus `percent`, at least cost + `min_margin_micros` per minute (unit), for `usage_type`
    and destinations starting with `prefix` (None: all), from `effective_from` (local
    midnight; default today). Refused: a second rule of the same key and day."""
    tenant_id = ctx.tenant_id
    percent = _percent(percent)
    prefix = _prefix(prefix)
    usage_type = _usage_type(usage_type)
    min_margin_micros = _min_margin(min_margin_micros)
    starts = rule_starts(ctx, clock, effective_from)
    _refuse_same_day(_series(session, tenant_id, usage_type, prefix), starts, usage_type, prefix)
    return _add(
        session,
        MarginRuleRow(tenant_id=tenant_id, usage_type=usage_type, prefix=prefix, percent=percent,
                      min_margin_micros=min_margin_micros, effective_from=starts),
        clock,
    )  # fmt: skip


def end_margin_rule(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    usage_type: str | None = None,
    prefix: str | None = None,
    effective_from: date | None = None,
) -> MarginRuleRow:
    """End the tenant's margin rule of `usage_type` and `prefix` (None: all) from
    `effective_from` (local midnight; default today): records from then on fall to the next
    rule that matches them, or none. Recorded as a row without a percent. Refused: no rule
    of that key in force then, or a row of the same key and day."""
    tenant_id = ctx.tenant_id
    prefix = _prefix(prefix)
    usage_type = _usage_type(usage_type)
    starts = rule_starts(ctx, clock, effective_from)
    series = _series(session, tenant_id, usage_type, prefix)
    _refuse_same_day(series, starts, usage_type, prefix)
    before = [r for r in series if r.effective_from < starts]
    if not before or before[-1].percent is None:
        raise ConflictError(
            f"the tenant has no margin rule for {usage_type or 'all usage'} to "
            f"{prefix or 'every destination'} in force on {starts:%Y-%m-%d} to end",
            field="effective_from",
        )
    return _add(
        session,
        MarginRuleRow(tenant_id=tenant_id, usage_type=usage_type, prefix=prefix, percent=None,
                      min_margin_micros=None, effective_from=starts),
        clock,
    )  # fmt: skip


def _add(session: Session, row: MarginRuleRow, clock: Clock) -> MarginRuleRow:
    row.id, row.created_at = new_id("mgr"), clock.now()
    session.add(row)
    session.flush()
    return row


def _series(
    session: Session, tenant_id: str, usage_type: str | None, prefix: str | None
) -> list[MarginRuleRow]:
    """The tenant's rows of one usage type and prefix, by date."""
    return list(
        session.scalars(
            select(MarginRuleRow)
            .where(
                MarginRuleRow.tenant_id == tenant_id,
                MarginRuleRow.usage_type.is_(None)
                if usage_type is None
                else MarginRuleRow.usage_type == usage_type,
                MarginRuleRow.prefix.is_(None)
                if prefix is None
                else MarginRuleRow.prefix == prefix,
            )
            .order_by(MarginRuleRow.effective_from)
        )
    )


def _refuse_same_day(
    series: Sequence[MarginRuleRow], starts: datetime, usage_type: str | None, prefix: str | None
) -> None:
    if any(r.effective_from == starts for r in series):
        raise ConflictError(
            f"the tenant already has a margin rule for {usage_type or 'all usage'} to "
            f"{prefix or 'every destination'} from {starts:%Y-%m-%d}",
            field="effective_from",
        )


def list_margin_rules(session: Session, *, ctx: TenantContext) -> list[MarginRuleRow]:
    """The tenant's own margin rules, by usage type, prefix and date (inherited ones: see
    `margin_rules_in_force`)."""
    tenant_id = ctx.tenant_id
    return list(
        session.scalars(
            select(MarginRuleRow)
            .where(MarginRuleRow.tenant_id == tenant_id)
            .order_by(
                MarginRuleRow.usage_type,
                MarginRuleRow.prefix,
                MarginRuleRow.effective_from,
                MarginRuleRow.id,
            )
        )
    )


MarginKey = tuple[str | None, str | None]  # (usage type, prefix)


def margin_rule_versions(
    session: Session, tree: TenantTree, tenant_ids: Sequence[str]
) -> list[Version[MarginKey, MarginRuleRow]]:
    """The margin rules owned along the chains of `tenant_ids`, one query; an end (a row
    without a percent) is a version without a value."""
    owners = sorted({owner for t in tenant_ids for owner in tree.chain(t)})
    rows = session.scalars(select(MarginRuleRow).where(MarginRuleRow.tenant_id.in_(owners))).all()
    return [
        Version(row.tenant_id, (row.usage_type, row.prefix),
                row if row.percent is not None else None, row.effective_from)
        for row in sorted(rows, key=lambda r: r.effective_from)
    ]  # fmt: skip


def margin_rules_in_force(
    tree: TenantTree,
    versions: Sequence[Version[MarginKey, MarginRuleRow]],
    tenant_ids: Sequence[str],
) -> pl.DataFrame:
    """Rows of `margin_pricing.MARGIN_RULE_SCHEMA` for records of `tenant_ids`: the
    candidate windows of each tenant's chain (`inheritance.candidates`), with their owner's
    depth; `margin_pricing` picks per record. Empty when no tenant of a chain has a rule."""
    resolved = [
        _margin_rule(tenant_id, window)
        for tenant_id in tenant_ids
        for window in candidates(tree, versions, tenant_id)
    ]
    return margin_rules_frame(resolved)


def _margin_rule(tenant_id: str, window: Resolved[MarginKey, MarginRuleRow]) -> MarginRule:
    row = window.value
    assert row.percent is not None  # an end is a version without a value: never a window
    return MarginRule(
        rule_id=row.id,
        percent=row.percent,
        usage_type=row.usage_type,
        prefix=row.prefix,
        min_margin_micros=row.min_margin_micros,
        tenant_id=tenant_id,
        depth=window.depth,
        valid_from=row.effective_from,
        valid_to=instant(window.valid_to),
    )
