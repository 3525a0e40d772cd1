"""Rounding rules and period tiers a tenant owns and its brands inherit, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.core.errors import ConflictError
from billstream.mediation.models import UsageRecord
from billstream.rating.allowances import Tier
from billstream.rating.models import CardKind, RatedUsage
from billstream.rating.rater import RoundingRules
from billstream.rating.service import (
    RatingRequest,
    import_rate_card,
    list_rounding_rules,
    rate_period,
    set_rounding_rule,
    set_tiers,
)
from billstream.tenants.models import Tenant
from tests.factories import context_of, make_account, make_tenant

JAN = date(2026, 1, 1)
FEB = date(2026, 2, 1)
UK = [{"prefix": "44", "rate": "0.06"}]  # 60/60 increments by default
SPEC_RULES = RoundingRules(free_below_s=30, first_s=60, next_s=30)
SPEC_DURATIONS = (25, 45, 61, 95)


def card(session: Session, clock: FakeClock, tenant: Tenant) -> None:
    import_rate_card(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        name="retail",
        kind=CardKind.RETAIL,
        rows=UK,
        source="uk.csv",
        effective_from=JAN,
    )


def calls(
    session: Session, root: Tenant, account: Account, *rows: tuple[str, datetime, int]
) -> None:
    session.execute(
        insert(UsageRecord),
        [
            {
                "root_tenant_id": root.id,
                "record_key": f"{account.id}-{key}",
                "tenant_id": account.tenant_id,
                "account_id": account.id,
                "subscription_id": None,
                "usage_type": "voice",
                "started_at": at,
                "duration_s": seconds,
                "quantity": 0,
                "calling": "+12125550100",
                "called": "+442071234567",
                "carrier": None,
                "file_id": None,
                "line_no": None,
            }
            for key, at, seconds in rows
        ],
    )


def rated(session: Session, clock: FakeClock, tenant: Tenant) -> dict[str, RatedUsage]:
    run = rate_period(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        request=RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB),
    )
    rows = session.scalars(select(RatedUsage).where(RatedUsage.run_id == run.id))
    return {r.record_key.rpartition("-")[2]: r for r in rows}


def brand_with_calls(
    session: Session, clock: FakeClock, parent: Tenant, *rows: tuple[str, datetime, int]
) -> Tenant:
    brand = make_tenant(session, clock, parent=parent)
    card(session, clock, brand)
    calls(session, parent, make_account(session, clock, brand), *rows)
    return brand


def spec_calls(day: datetime) -> list[tuple[str, datetime, int]]:
    return [(str(d), day + timedelta(minutes=i), d) for i, d in enumerate(SPEC_DURATIONS)]


def billed(rows: dict[str, RatedUsage], keys: Any) -> list[tuple[int, int]]:
    return [(rows[str(k)].billed_s, rows[str(k)].amount_micros) for k in keys]


def test_spec_rules_on_the_parent_are_inherited_by_a_brand_and_overridden_by_another(
    session: Session, clock: FakeClock
) -> None:
    parent = make_tenant(session, clock)
    day = datetime(2026, 1, 10, 12, tzinfo=UTC)
    inherits = brand_with_calls(session, clock, parent, *spec_calls(day))
    overrides = brand_with_calls(session, clock, parent, *spec_calls(day))
    ctx = context_of(session, parent)
    set_rounding_rule(session, clock=clock, ctx=ctx, rules=SPEC_RULES, effective_from=JAN)
    per_minute = RoundingRules(first_s=60, next_s=60)
    set_rounding_rule(
        session,
        clock=clock,
        ctx=context_of(session, overrides),
        rules=per_minute,
        usage_type="voice",
        effective_from=JAN,
    )
    # SPEC C6: 25 s → 0, 45 s → 60, 61 s → 90, 95 s → 120, at 0.06 a minute
    spec = rated(session, clock, inherits)
    assert billed(spec, SPEC_DURATIONS) == [(0, 0), (60, 60_000), (90, 90_000), (120, 120_000)]
    assert (spec["61"].first_increment_s, spec["61"].next_increment_s) == (60, 30)
    own = rated(session, clock, overrides)
    assert billed(own, SPEC_DURATIONS) == [
        (60, 60_000),
        (60, 60_000),
        (120, 120_000),
        (120, 120_000),
    ]
    assert [r.tenant_id for r in list_rounding_rules(session, ctx=ctx)] == [parent.id]
    with pytest.raises(ConflictError):
        set_rounding_rule(
            session,
            clock=clock,
            ctx=ctx,
            rules=SPEC_RULES,
            effective_from=JAN,
        )


def test_rules_are_in_force_from_their_date_and_a_brand_falls_back_to_its_parent_before(
    session: Session, clock: FakeClock
) -> None:
    parent = make_tenant(session, clock)
    before = datetime(2026, 1, 10, 12, tzinfo=UTC)
    after = datetime(2026, 1, 20, 12, tzinfo=UTC)
    brand = brand_with_calls(
        session, clock, parent, ("before", before, 61), ("after", after, 61), ("x", after, 25)
    )
    ctx = context_of(session, parent)
    inherited = set_rounding_rule(
        session, clock=clock, ctx=ctx, rules=SPEC_RULES, effective_from=JAN
    )
    per_second = RoundingRules(first_s=1, next_s=1)
    own = set_rounding_rule(
        session,
        clock=clock,
        ctx=ctx,
        rules=per_second,
        effective_from=date(2026, 1, 15),
    )
    rows = rated(session, clock, brand)
    # Jan 10: the parent's SPEC rules (61 s → 90); from Jan 15 the brand's own, per second
    assert billed(rows, ["before", "after", "x"]) == [(90, 90_000), (61, 61_000), (25, 25_000)]
    # each record names the rule that billed it
    assert [rows[k].rounding_rule_id for k in ("before", "after", "x")] == [
        inherited.id,
        own.id,
        own.id,
    ]


def test_tiers_on_the_period_total_price_each_account_by_its_running_total(
    session: Session, clock: FakeClock
) -> None:
    parent = make_tenant(session, clock)
    brand = make_tenant(session, clock, parent=parent)
    card(session, clock, brand)
    first, second = make_account(session, clock, brand), make_account(session, clock, brand)
    day = datetime(2026, 1, 2, 12, tzinfo=UTC)
    calls(session, parent, first, *((k, day + timedelta(days=i), 240) for i, k in enumerate("ab")))
    calls(session, parent, first, ("c", day + timedelta(days=2), 110))
    calls(session, parent, second, ("d", day, 240))
    # set on the parent, inherited by the brand: 0.06 a minute for the first 5 minutes of the
    # period, 0.03 beyond (a later set of the parent, from Feb, is not in force for January)
    tiers = [Tier(0, 60_000), Tier(300, 30_000)]
    ctx = context_of(session, parent)
    january = set_tiers(
        session,
        clock=clock,
        ctx=ctx,
        usage_type="voice",
        tiers=tiers,
        effective_from=JAN,
    )
    set_tiers(
        session,
        clock=clock,
        ctx=ctx,
        usage_type="voice",
        tiers=[Tier(0, 1)],
        effective_from=FEB,
    )
    rows = rated(session, clock, brand)
    # a: 0-240 s at 0.06 = 0.24; b: 240-480 s: 60 s at 0.06 + 180 s at 0.03 = 0.15;
    # c: 110 s bills 120 s (60/60), 480-600 s at 0.03 = 0.06; d: another account, 0.24
    assert [rows[k].amount_micros for k in "abcd"] == [240_000, 150_000, 60_000, 240_000]
    assert {rows[k].tier_set_id for k in "abcd"} == {january}  # the set that priced them
