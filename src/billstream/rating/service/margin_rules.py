"""A tenant's margin rules, inherited by its brands: retail = carrier cost + x % (SPEC C6).

A rule prices only the records no customer special rate and no retail card rates, from their
cost (see `margin_pricing` for the arithmetic and which rule wins). Like rounding rules, rules
are versioned by date and never updated in place: a rule is in force from its
`effective_from` (the owning tenant's local midnight) until the next rule of the same tenant,
usage type and prefix starts, or its end (a row without a percent). A brand uses its own
rules first, then its ancestors'.
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
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import ancestor_chain

__all__ = ["end_margin_rule", "list_margin_rules", "resolved_margin_rules", "set_margin_rule"]


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
    scope: TenantScope,
    tenant_id: str,
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
    scope.require(tenant_id)
    percent = _percent(percent)
    prefix = _prefix(prefix)
    usage_type = _usage_type(usage_type)
    min_margin_micros = _min_margin(min_margin_micros)
    starts = rule_starts(session, clock, tenant_id, effective_from)
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
    scope: TenantScope,
    tenant_id: str,
    usage_type: str | None = None,
    prefix: str | None = None,
    effective_from: date | None = None,
) -> MarginRuleRow:
    """End the tenant's margin rule of `usage_type` and `prefix` (None: all) from
    `effective_from` (local midnight; default today): records from then on fall to the next
    rule that matches them, or none. Recorded as a row without a percent. Refused: no rule
    of that key in force then, or a row of the same key and day."""
    scope.require(tenant_id)
    prefix = _prefix(prefix)
    usage_type = _usage_type(usage_type)
    starts = rule_starts(session, clock, tenant_id, effective_from)
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


def list_margin_rules(
    session: Session, *, scope: TenantScope, tenant_id: str
) -> list[MarginRuleRow]:
    """The tenant's own margin rules, by usage type, prefix and date (inherited ones: see
    `resolved_margin_rules`)."""
    scope.require(tenant_id)
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


Series = dict[tuple[str, str | None, str | None], list[tuple[MarginRuleRow, datetime | None]]]


def _windows(rows: Sequence[MarginRuleRow]) -> Series:
    """Each rule with the instant the next rule of its tenant, usage type and prefix starts."""
    series: Series = {}
    for row in sorted(rows, key=lambda r: r.effective_from):
        windows = series.setdefault((row.tenant_id, row.usage_type, row.prefix), [])
        if windows:
            windows[-1] = (windows[-1][0], row.effective_from)
        windows.append((row, None))
    return series


def resolved_margin_rules(session: Session, tenant_ids: Sequence[str]) -> pl.DataFrame:
    """Rows of `margin_pricing.MARGIN_RULE_SCHEMA` for records of `tenant_ids`: each rule of
    each tenant's chain, with its owner's depth up the chain and the window it is in force
    over. Empty when no tenant of a chain has a rule. One query for all the chains."""
    chains = {t: [n.id for n in reversed(ancestor_chain(session, t))] for t in tenant_ids}
    owners = sorted({o for chain in chains.values() for o in chain})
    rows = session.scalars(select(MarginRuleRow).where(MarginRuleRow.tenant_id.in_(owners))).all()
    series = _windows(rows)
    resolved: list[MarginRule] = []
    for tenant_id, chain in chains.items():
        depth = {owner: index for index, owner in enumerate(chain)}
        for (owner, _usage, _prefix), windows in series.items():
            if owner not in depth:
                continue
            resolved += [
                MarginRule(
                    rule_id=row.id,
                    percent=row.percent,
                    usage_type=row.usage_type,
                    prefix=row.prefix,
                    min_margin_micros=row.min_margin_micros,
                    tenant_id=tenant_id,
                    depth=depth[owner],
                    valid_from=row.effective_from,
                    valid_to=valid_to,
                )
                for row, valid_to in windows
                if row.percent is not None  # an end: no rule (its window ends the one before)
            ]
    return margin_rules_frame(resolved)
