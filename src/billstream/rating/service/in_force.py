"""What rating configuration is in force for a tenant on a day, and which tenant set it.

Rounding rules, tier sets and margin rules are inherited configuration (`tenants.inheritance`):
each read here loads the versions along the tenant's chain with the function rating itself
uses and asks the one resolver, `inheritance.in_force`, per key. A day is a local date of the
asking tenant, read at its local midnight: the instant a rating period starting that day
looks rules up at. `source` is the tenant that set a value, or ``"inherited"`` when that
tenant is outside the caller's scope (a brand's key sees its parent's rules as inherited).

Rounding rules are shown as the rater applies them: per usage type, the nearest tenant's rule
for that type or for every type (its own type's first). Margin rules are listed per key (usage
type and prefix), each key's nearest value; a record takes the first that matches it in
`margin_pricing`'s order (nearest tenant, then longest prefix, then usage type).
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
from billstream.tenants.inheritance import Resolved, Version, candidates, in_force

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
    """The rounding rules in force for `ctx`'s tenant on `on` (default: today, local): for
    each usage type some tenant of the chain names (key None: any other usage type), the rule
    that rates its records, as the rater chooses it, with its window and `source`.

    Returns
    -------
    list of Resolved
        By usage type, then None; `value` is the rule's row (its own `usage_type` is None
        when a nearer tenant's rule for every type wins over a farther one's for this type).
    """
    versions = rule_versions(session, ctx.tree, [ctx.tenant_id])
    at = day_start(ctx, clock, on)
    windows = [w for w in candidates(ctx.tree, versions, ctx.tenant_id) if w.covers(at)]
    keys = sorted({w.key for w in windows}, key=lambda k: (k is None, k or ""))
    # the rater's choice for a record of each usage type: the nearest owner with a rule for
    # it or for every type, its own type's rule first (`rules.rules_in_force`)
    return [
        replace(chosen, key=key, source=ctx.shown(chosen.source))
        for key in keys
        for chosen in [next(w for w in windows if w.key in (key, None))]
    ]


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
