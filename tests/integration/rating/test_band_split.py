"""Calls split at time-band boundaries through `rate_period`, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.core.clock import FakeClock
from billstream.rating.models import CardKind, RatedUsage
from billstream.rating.rater import RoundingRules
from billstream.rating.service import (
    RatingRequest,
    import_rate_card,
    list_rounding_rules,
    rate_period,
    set_rounding_rule,
)
from tests.factories import context_of, make_account, make_tenant
from tests.integration.rating.test_rating_rules import FEB, JAN, calls

PEAK_AND_OFFPEAK = [
    {"prefix": "44", "rate": "0.12", "band": "peak"},  # 2,000 micro-units a second
    {"prefix": "44", "rate": "0.06", "band": "offpeak"},  # 1,000
    {"prefix": "44", "rate": "0.03", "band": "weekend"},  # 500
]
EVENING = datetime(2026, 1, 5, 19, 59, tzinfo=UTC)  # Monday, 60 s before the off-peak
MORNING = datetime(2026, 1, 6, 10, tzinfo=UTC)


@pytest.mark.parametrize("split", [True, False])
def test_a_rule_with_split_bands_splits_the_rated_row_and_keeps_its_lineage(
    session: Session, clock: FakeClock, split: bool
) -> None:
    # given a tenant (London) with a banded card and a 60/60 rule splitting at band boundaries
    tenant = make_tenant(session, clock, timezone="Europe/London")
    ctx = context_of(session, tenant)
    import_rate_card(
        session,
        clock=clock,
        ctx=ctx,
        name="retail",
        kind=CardKind.RETAIL,
        rows=PEAK_AND_OFFPEAK,
        source="uk.csv",
        effective_from=JAN,
    )
    set_rounding_rule(
        session,
        clock=clock,
        ctx=ctx,
        rules=RoundingRules(first_s=60, next_s=60, split_bands=split),
        effective_from=JAN,
    )
    account = make_account(session, clock, tenant)
    calls(session, tenant, account, ("cross", EVENING, 150), ("inside", MORNING, 61))
    # when the period is rated
    run = rate_period(
        session,
        clock=clock,
        ctx=ctx,
        request=RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB),
    )
    rows = {
        r.record_key.rpartition("-")[2]: r
        for r in session.scalars(select(RatedUsage).where(RatedUsage.run_id == run.id))
    }
    cross, inside = rows["cross"], rows["inside"]
    # then the crossing call is still one row, billed 180 s; split: 60 s peak, 120 s off-peak
    assert [r.split_bands for r in list_rounding_rules(session, ctx=ctx)] == [split]
    assert (cross.band, cross.billed_s) == ("peak", 180)
    if split:
        assert cross.amount_micros == 60 * 2_000 + 120 * 1_000
        assert cross.split_s == 120
        assert cross.band_split is not None
        assert [p.split(":")[:2] for p in cross.band_split.split(";")] == [
            ["peak", "60"],
            ["offpeak", "120"],
        ]
        assert cross.band_split.split(";")[0].split(":")[2] == cross.rate_id
    else:
        assert (cross.amount_micros, cross.split_s, cross.band_split) == (180 * 2_000, 0, None)
    # and a call inside one band is unchanged either way
    assert (inside.billed_s, inside.amount_micros, inside.split_s, inside.band_split) == (
        120,
        120 * 2_000,
        0,
        None,
    )
    assert run.retail_micros == cross.amount_micros + inside.amount_micros
