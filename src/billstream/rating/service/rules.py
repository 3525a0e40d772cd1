"""A tenant's rating rules, inherited by its brands: rounding rules and period tiers.

Both are inherited configuration, resolved by `tenants.inheritance`: for a record, the
**nearest** tenant up the tree (the record's own tenant first, then its parent, …) with a rule
in force at the record's start wins; inside one tenant a rule for the record's usage type wins
over a rule for all types. A rule is in force from its `effective_from` (the owning tenant's
local midnight) until the next rule of the same tenant and usage type starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.core.clock import Clock
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.core.ids import new_id
from billstream.core.limits import MAX_RATE, MAX_USAGE_TOTAL, OutOfBoundsError, check_day
from billstream.rating.allowances import Tier
from billstream.rating.models import RatingRule, RatingTier
from billstream.rating.rater import RoundingMode, RoundingRules, rules_frame
from billstream.rating.service.cards import local_midnight
from billstream.tenants.context import TenantContext
from billstream.tenants.inheritance import Version, candidates, in_force
from billstream.tenants.tree import TenantTree

__all__ = [
    "TierSet",
    "list_rounding_rules",
    "list_tiers",
    "rule_versions",
    "rules_in_force",
    "set_rounding_rule",
    "set_tiers",
    "tier_set_versions",
    "tier_sets_in_force",
    "tiers_in_force",
]

MAX_USAGE_TYPE = 32


def rule_starts(ctx: TenantContext, clock: Clock, day: date | None) -> datetime:
    """The instant a rule of `ctx`'s tenant starts: `day`'s (default: today's) local midnight."""
    if day is not None:
        check_day(day, field="effective_from")
    timezone = ctx.timezone
    local = local_midnight(day or clock.now().astimezone(ZoneInfo(timezone)).date(), timezone)
    return local.astimezone(UTC)


def checked_usage_type(usage_type: str | None) -> str | None:
    """A rule's usage type, trimmed and lower-case (None: every usage type)."""
    if usage_type is None:
        return None
    usage_type = usage_type.strip().lower()
    if not usage_type or len(usage_type) > MAX_USAGE_TYPE:
        raise InvalidInputError("a usage type is 1-32 characters", field="usage_type")
    return usage_type


def set_rounding_rule(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    rules: RoundingRules,
    usage_type: str | None = None,
    effective_from: date | None = None,
) -> RatingRule:
    """Give `tenant_id` (and the brands below it that have none) rounding rules for
    `usage_type` (None: all), from `effective_from` (local midnight; default today)."""
    tenant_id = ctx.tenant_id
    usage_type = checked_usage_type(usage_type)
    starts = rule_starts(ctx, clock, effective_from)
    same = session.scalar(
        select(RatingRule.id).where(
            RatingRule.tenant_id == tenant_id,
            RatingRule.usage_type.is_(None)
            if usage_type is None
            else RatingRule.usage_type == usage_type,
            RatingRule.effective_from == starts,
        )
    )
    if same is not None:
        raise ConflictError(
            f"the tenant already has rounding rules for {usage_type or 'all usage'} from "
            f"{starts:%Y-%m-%d}",
            field="effective_from",
        )
    rule = RatingRule(
        id=new_id("rrl"),
        tenant_id=tenant_id,
        usage_type=usage_type,
        free_below_s=rules.free_below_s,
        first_s=rules.first_s,
        next_s=rules.next_s,
        mode=rules.mode.value,
        charge_attempts=rules.charge_attempts,
        split_bands=rules.split_bands,
        effective_from=starts,
        created_at=clock.now(),
    )
    session.add(rule)
    session.flush()
    return rule


def list_rounding_rules(session: Session, *, ctx: TenantContext) -> list[RatingRule]:
    """The tenant's own rounding rules, by usage type and date (inherited ones: see
    `rules_in_force`)."""
    tenant_id = ctx.tenant_id
    return list(
        session.scalars(
            select(RatingRule)
            .where(RatingRule.tenant_id == tenant_id)
            .order_by(RatingRule.usage_type, RatingRule.effective_from, RatingRule.id)
        )
    )


def rules_of(rule: RatingRule) -> RoundingRules:
    return RoundingRules(
        first_s=rule.first_s,
        next_s=rule.next_s,
        free_below_s=rule.free_below_s,
        mode=RoundingMode(rule.mode),
        charge_attempts=rule.charge_attempts,
        split_bands=rule.split_bands,
    )


def rule_versions(
    session: Session, tree: TenantTree, tenant_ids: Sequence[str]
) -> list[Version[str | None, RatingRule]]:
    """The rounding rules owned along the chains of `tenant_ids`, one query: a usage type's
    rules (by name) before the all-usage rules, each by date."""
    owners = sorted({owner for t in tenant_ids for owner in tree.chain(t)})
    rules = session.scalars(select(RatingRule).where(RatingRule.tenant_id.in_(owners))).all()
    ordered = sorted(
        rules, key=lambda r: (r.usage_type is None, r.usage_type or "", r.effective_from, r.id)
    )
    return [Version(r.tenant_id, r.usage_type, r, r.effective_from) for r in ordered]


def rules_in_force(
    tree: TenantTree,
    versions: Sequence[Version[str | None, RatingRule]],
    tenant_ids: Sequence[str],
) -> pl.DataFrame:
    """Rows of `rater.RULE_SCHEMA` for records of `tenant_ids`, in priority order: per tenant,
    the candidate windows of its chain (`inheritance.candidates`: nearest owner first, a usage
    type's rules before all-usage rules), each with the window it is in force over."""
    rows: list[tuple[str | None, str | None, object, object, RoundingRules]] = []
    ids: list[str | None] = []
    for tenant_id in tenant_ids:
        for window in candidates(tree, versions, tenant_id):
            rule = window.value
            rows.append(
                (tenant_id, rule.usage_type, window.effective_from, window.valid_to,
                 rules_of(rule))
            )  # fmt: skip
            ids.append(rule.id)
    return rules_frame(rows, rule_ids=ids)


def set_tiers(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    usage_type: str,
    tiers: Sequence[Tier],
    effective_from: date | None = None,
) -> str:
    """Price `usage_type` for the accounts of `tenant_id` (and of its brands that have no
    tiers of their own) by graduated tiers on each account's period total, from
    `effective_from` on; returns the tier set's id."""
    tenant_id = ctx.tenant_id
    kind = checked_usage_type(usage_type)
    assert kind is not None
    ordered = sorted(tiers, key=lambda t: t.from_quantity)
    if not ordered or ordered[0].from_quantity != 0:
        raise InvalidInputError("the first tier starts at quantity 0", field="tiers")
    if len({t.from_quantity for t in ordered}) != len(ordered) or any(
        t.rate_micros < 0 for t in ordered
    ):
        raise InvalidInputError("tiers start at distinct quantities, at rates >= 0", field="tiers")
    if ordered[-1].from_quantity > MAX_USAGE_TOTAL or any(
        t.rate_micros > MAX_RATE * 1_000_000 for t in ordered
    ):
        raise OutOfBoundsError(
            f"tiers start at quantities up to {MAX_USAGE_TOTAL} at rates up to {MAX_RATE}",
            field="tiers",
        )
    starts = rule_starts(ctx, clock, effective_from)
    set_id = new_id("rts")
    session.add_all(
        RatingTier(
            id=new_id("rti"),
            set_id=set_id,
            tenant_id=tenant_id,
            usage_type=kind,
            from_quantity=tier.from_quantity,
            rate_micros=tier.rate_micros,
            effective_from=starts,
            created_at=clock.now(),
        )
        for tier in ordered
    )
    session.flush()
    return set_id


def list_tiers(session: Session, *, ctx: TenantContext) -> list[RatingTier]:
    """The tenant's own tiers, by usage type, date and set (inherited ones: `tiers_in_force`)."""
    tenant_id = ctx.tenant_id
    return list(
        session.scalars(
            select(RatingTier)
            .where(RatingTier.tenant_id == tenant_id)
            .order_by(
                RatingTier.usage_type,
                RatingTier.effective_from,
                RatingTier.created_at,
                RatingTier.set_id,
                RatingTier.from_quantity,
            )
        )
    )


def tiers_in_force(
    session: Session, tree: TenantTree, tenant_id: str, at: datetime
) -> dict[str, list[Tier]]:
    """Per usage type, the tiers in force at `at` (a period's start) for `tenant_id`: the
    latest set of the nearest tenant up `tree` that has one."""
    return {
        usage: tiers
        for usage, (_set, tiers) in tier_sets_in_force(session, tree, tenant_id, at).items()
    }


def tier_sets_in_force(
    session: Session, tree: TenantTree, tenant_id: str, at: datetime
) -> dict[str, tuple[str, list[Tier]]]:
    """Per usage type, the id and tiers of the set in force at `at` for `tenant_id`: the
    nearest owner up `tree` with a set started by then, its latest (a later set of the same
    day wins). One query."""
    return {
        usage: (found.value.set_id, found.value.tiers)
        for usage, found in sorted(
            in_force(tree, tier_set_versions(session, tree, tenant_id), tenant_id, at).items()
        )
    }


@dataclass(frozen=True, slots=True)
class TierSet:
    """A tier set as one version of its usage type's tiers."""

    set_id: str
    tiers: list[Tier]


def tier_set_versions(
    session: Session, tree: TenantTree, tenant_id: str
) -> list[Version[str, TierSet]]:
    """The tier sets owned along `tenant_id`'s chain, one query: each a version keyed by its
    usage type (a later set of the same day wins)."""
    rows = session.scalars(
        select(RatingTier)
        .where(RatingTier.tenant_id.in_(tree.chain(tenant_id)))
        .order_by(RatingTier.from_quantity)
    ).all()
    sets: dict[str, list[RatingTier]] = {}
    for row in rows:
        sets.setdefault(row.set_id, []).append(row)
    return [
        Version(tiers[0].tenant_id, tiers[0].usage_type,
                TierSet(set_id, [Tier(t.from_quantity, t.rate_micros) for t in tiers]),
                tiers[0].effective_from, (tiers[0].created_at, set_id))
        for set_id, tiers in sets.items()
    ]  # fmt: skip
