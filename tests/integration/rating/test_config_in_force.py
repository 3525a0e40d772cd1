"""What rating configuration is in force for a tenant on a day, and which tenant set it: a
brand inheriting its parent's rules, a brand overriding them, a rule replaced or ended on a
date, and a caller scoped to the brand seeing its parent as "inherited"; on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from billstream.core.clock import FakeClock
from billstream.rating.allowances import Tier
from billstream.rating.rater import RoundingRules
from billstream.rating.service import (
    end_margin_rule,
    margin_rules_on,
    rounding_rules_on,
    set_margin_rule,
    set_rounding_rule,
    set_tiers,
    tier_sets_on,
)
from billstream.tenants.context import TenantContext
from billstream.tenants.models import Tenant
from billstream.tenants.service import load_context, scope_for
from tests.factories import context_of, make_tenant

JAN, MAR, JUN = date(2026, 1, 1), date(2026, 3, 1), date(2026, 6, 1)
SPEC = RoundingRules(free_below_s=30, first_s=60, next_s=30)
PER_SECOND = RoundingRules(first_s=1, next_s=1)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def seen_from(session: Session, parent: Tenant, brand: Tenant) -> TenantContext:
    """`brand`'s context for its parent's operator: every source of the chain in scope."""
    return load_context(session, scope=context_of(session, parent).scope, tenant_id=brand.id)


def family(session: Session, clock: FakeClock) -> tuple[Tenant, Tenant, Tenant]:
    """A parent (UTC) and two brands: one inherits everything, one overrides."""
    parent = make_tenant(session, clock)
    return (
        parent,
        make_tenant(session, clock, parent=parent),
        make_tenant(session, clock, parent=parent),
    )


def test_a_brand_inherits_its_parents_rounding_rules_until_its_own_replace_them(
    session: Session, clock: FakeClock
) -> None:
    # given the parent's SPEC rules from Jan 1, replaced by per-second rules from Jun 1,
    # and a brand with its own voice rules from Mar 1
    parent, inherits, overrides = family(session, clock)
    set_rounding_rule(session, clock=clock, ctx=context_of(session, parent), rules=SPEC,
                      effective_from=JAN)  # fmt: skip
    set_rounding_rule(session, clock=clock, ctx=context_of(session, parent), rules=PER_SECOND,
                      effective_from=JUN)  # fmt: skip
    set_rounding_rule(session, clock=clock, ctx=context_of(session, overrides), rules=PER_SECOND,
                      usage_type="voice", effective_from=MAR)  # fmt: skip

    # when each brand asks what is in force on Apr 10
    on = date(2026, 4, 10)
    inherited = rounding_rules_on(
        session, clock=clock, ctx=seen_from(session, parent, inherits), on=on
    )
    own = rounding_rules_on(session, clock=clock, ctx=seen_from(session, parent, overrides), on=on)

    # then the first sees its parent's SPEC rules, set by the parent, until Jun 1
    assert [(r.key, r.value.first_s, r.value.next_s, r.source, r.effective_from, r.valid_to)
            for r in inherited] == [
        (None, 60, 30, parent.id, midnight(JAN), midnight(JUN))
    ]  # fmt: skip
    # and the second its own voice rules (open-ended) besides the parent's for all usage
    assert [(r.key, r.value.first_s, r.source, r.effective_from, r.valid_to) for r in own] == [
        ("voice", 1, overrides.id, midnight(MAR), None),
        (None, 60, parent.id, midnight(JAN), midnight(JUN)),
    ]
    # and on Jun 1 the parent's replacement is in force, open-ended
    ctx = seen_from(session, parent, inherits)
    [replaced] = rounding_rules_on(session, clock=clock, ctx=ctx, on=JUN)
    assert (replaced.value.first_s, replaced.source) == (1, parent.id)
    assert (replaced.effective_from, replaced.valid_to) == (midnight(JUN), None)
    # before any rule: nothing
    assert rounding_rules_on(session, clock=clock, ctx=context_of(session, inherits),
                             on=date(2025, 12, 31)) == []  # fmt: skip


def test_today_is_the_default_day(session: Session, clock: FakeClock) -> None:
    # given the parent's rules from today (the clock's day) on
    parent, brand, _ = family(session, clock)
    today = clock.now().date()
    set_rounding_rule(session, clock=clock, ctx=context_of(session, parent), rules=SPEC)

    # when the brand asks without a day, then it sees them
    [found] = rounding_rules_on(session, clock=clock, ctx=seen_from(session, parent, brand))
    assert (found.source, found.effective_from) == (parent.id, midnight(today))


def test_a_caller_scoped_to_the_brand_sees_its_parent_as_inherited(
    session: Session, clock: FakeClock
) -> None:
    # given the parent's rules and a context scoped to the brand alone (a brand's API key)
    parent, brand, _ = family(session, clock)
    set_rounding_rule(session, clock=clock, ctx=context_of(session, parent), rules=SPEC,
                      effective_from=JAN)  # fmt: skip
    scope = scope_for(session, brand.id, include_descendants=False)
    ctx = load_context(session, scope=scope, tenant_id=brand.id)

    # when it asks, then the rule's source is masked
    [found] = rounding_rules_on(session, clock=clock, ctx=ctx, on=MAR)
    assert (found.value.first_s, found.source, found.effective_from) == (
        60, "inherited", midnight(JAN)
    )  # fmt: skip


def test_tier_sets_in_force_name_the_tenant_of_the_set(session: Session, clock: FakeClock) -> None:
    # given the parent's voice tiers from Jan 1 and the overriding brand's from Mar 1
    parent, inherits, overrides = family(session, clock)
    parent_tiers = [Tier(0, 20_000), Tier(6_000, 10_000)]
    parent_set = set_tiers(session, clock=clock, ctx=context_of(session, parent),
                           usage_type="voice", tiers=parent_tiers, effective_from=JAN)  # fmt: skip
    brand_ctx = context_of(session, overrides)
    own_set = set_tiers(session, clock=clock, ctx=brand_ctx, usage_type="voice",
                        tiers=[Tier(0, 15_000)], effective_from=MAR)  # fmt: skip

    # when each brand asks on Apr 1
    on = date(2026, 4, 1)
    [inherited] = tier_sets_on(
        session, clock=clock, ctx=seen_from(session, parent, inherits), on=on
    )
    [own] = tier_sets_on(session, clock=clock, ctx=seen_from(session, parent, overrides), on=on)

    # then the first sees the parent's set, the second its own
    assert (inherited.key, inherited.value.set_id, inherited.source) == (
        "voice",
        parent_set,
        parent.id,
    )
    assert inherited.value.tiers == [Tier(0, 20_000), Tier(6_000, 10_000)]
    assert (inherited.effective_from, inherited.valid_to) == (midnight(JAN), None)
    assert (own.value.set_id, own.source, own.effective_from, own.valid_to) == (
        own_set, overrides.id, midnight(MAR), None
    )  # fmt: skip
    # and before Mar 1 the overriding brand still had its parent's
    [before] = tier_sets_on(session, clock=clock, ctx=seen_from(session, parent, overrides), on=JAN)
    assert (before.value.set_id, before.source) == (parent_set, parent.id)


def test_a_brand_that_ends_its_margin_rule_falls_back_to_its_parents(
    session: Session, clock: FakeClock
) -> None:
    # given the parent's 12.5 % from Jan 1 and the brand's own 20 % from Mar 1, ended Jun 1
    parent, brand, _ = family(session, clock)
    set_margin_rule(session, clock=clock, ctx=context_of(session, parent),
                    percent=Decimal("12.5"), effective_from=JAN)  # fmt: skip
    set_margin_rule(session, clock=clock, ctx=context_of(session, brand), percent=Decimal(20),
                    effective_from=MAR)  # fmt: skip
    end_margin_rule(session, clock=clock, ctx=context_of(session, brand), effective_from=JUN)
    ctx = seen_from(session, parent, brand)

    # when it asks in April, then in June
    [april] = margin_rules_on(session, clock=clock, ctx=ctx, on=date(2026, 4, 1))
    [june] = margin_rules_on(session, clock=clock, ctx=ctx, on=JUN)

    # then April is its own rule, until the end on Jun 1; June is the parent's, open-ended
    assert (april.key, april.value.percent, april.source) == ((None, None), Decimal(20), brand.id)
    assert (april.effective_from, april.valid_to) == (midnight(MAR), midnight(JUN))
    assert (june.value.percent, june.source, june.effective_from, june.valid_to) == (
        Decimal("12.5"), parent.id, midnight(JAN), None
    )  # fmt: skip


def test_a_brands_rule_for_every_usage_wins_over_its_parents_rule_for_voice(
    session: Session, clock: FakeClock
) -> None:
    # given the parent's voice rules, and a brand's own rules for every usage type
    parent, _inherits, brand = family(session, clock)
    set_rounding_rule(session, clock=clock, ctx=context_of(session, parent), rules=SPEC,
                      usage_type="voice", effective_from=JAN)  # fmt: skip
    set_rounding_rule(session, clock=clock, ctx=context_of(session, brand), rules=PER_SECOND,
                      effective_from=JAN)  # fmt: skip

    # when the brand asks what is in force
    shown = rounding_rules_on(
        session, clock=clock, ctx=seen_from(session, parent, brand), on=date(2026, 4, 10)
    )

    # then its voice calls are rated as the rater rates them: by the brand's nearer rule
    assert [(r.key, r.value.usage_type, r.value.first_s, r.source) for r in shown] == [
        ("voice", None, 1, brand.id),
        (None, None, 1, brand.id),
    ]
