"""What rating configuration is in force for a tenant on a day, and which tenant set it.

Rounding rules, tier sets and margin rules are inherited configuration (`tenants.inheritance`):
each read here loads the versions along the tenant's chain with the function rating itself
uses and asks the one resolver, `inheritance.in_force`, per key. A day is a local date of the
asking tenant, read at its local midnight: the instant a rating period starting that day
looks rules up at. `source` is the tenant that set a value, or ``"inherited"`` when that
tenant is outside the caller's scope (a brand's key sees its parent's rules as inherited).

Per key: the rater itself prefers, for a record, the nearest tenant's rules and only then a
usage type's over the all-usage rule (`rules.rules_in_force`); this view lists each key's
own value, which is what a tenant configures.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from billstream.core.clock import Clock
from billstream.core.limits import check_day
from billstream.rating.models import MarginRule, RatingRule
from billstream.rating.service.cards import local_midnight
from billstream.rating.service.margin_rules import MarginKey, margin_rule_versions
from billstream.rating.service.rules import TierSet, rule_versions, tier_set_versions
from billstream.tenants.context import TenantContext
from billstream.tenants.inheritance import Resolved, Version, in_force

__all__ = ["day_start", "margin_rules_on", "rounding_rules_on", "tier_sets_on"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def day_start(ctx: TenantContext, clock: Clock, on: date | None) -> datetime:
    """The instant `on` (default: today) starts in `ctx`'s tenant's time zone, in UTC."""
    zone = ctx.timezone
    day = check_day(on, field="on") if on else clock.now().astimezone(ZoneInfo(zone)).date()
    return local_midnight(day, zone).astimezone(UTC)


def _shown(
    ctx: TenantContext, versions: Sequence[Version[K, V]], at: datetime
) -> list[Resolved[K, V]]:
    found = in_force(ctx.tree, versions, ctx.tenant_id, at)
    return [replace(r, source=ctx.shown(r.source)) for r in found.values()]


def rounding_rules_on(
    session: Session, *, clock: Clock, ctx: TenantContext, on: date | None = None
) -> list[Resolved[str | None, RatingRule]]:
    """The rounding rules in force for `ctx`'s tenant on `on` (default: today, local), per
    usage type (key None: every usage type), each with its window and `source`.

    Returns
    -------
    list of Resolved
        A usage type's rules by name, then the all-usage rules; `value` is the rule's row.
    """
    tenant = [ctx.tenant_id]
    versions = rule_versions(session, ctx.tree, tenant)
    return _shown(ctx, versions, day_start(ctx, clock, on))


def tier_sets_on(
    session: Session, *, clock: Clock, ctx: TenantContext, on: date | None = None
) -> list[Resolved[str, TierSet]]:
    """The tier set in force for `ctx`'s tenant on `on` (default: today, local) per usage
    type, by usage type, each with its window and `source`."""
    versions = tier_set_versions(session, ctx.tree, ctx.tenant_id)
    found = _shown(ctx, versions, day_start(ctx, clock, on))
    return sorted(found, key=lambda r: r.key)


def margin_rules_on(
    session: Session, *, clock: Clock, ctx: TenantContext, on: date | None = None
) -> list[Resolved[MarginKey, MarginRule]]:
    """The margin rules in force for `ctx`'s tenant on `on` (default: today, local) per
    usage type and prefix (None: all), each with its window and `source`. A rule ended
    (a row without a percent) is absent, or shows the rule of an owner further up."""
    versions = margin_rule_versions(session, ctx.tree, [ctx.tenant_id])
    found = _shown(ctx, versions, day_start(ctx, clock, on))
    return sorted(found, key=lambda r: (r.key[0] is None, r.key[0] or "", r.key[1] or ""))
