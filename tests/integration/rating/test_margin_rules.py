"""Margin rules through `rate_period`, on both databases: records no card rates are priced at
their carrier cost + x %, a brand inherits its parent's rules and overrides them, and the
rated row names the rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.core.errors import BillstreamError, ConflictError, InvalidInputError
from billstream.mediation.models import UsageRecord
from billstream.rating.models import CardKind, MarginRule, RatedUsage, RatingRun
from billstream.rating.service import (
    RatingRequest,
    end_margin_rule,
    list_margin_rules,
    rate_period,
    set_margin_rule,
)
from billstream.rating.service.margin import MarginBy, margin_report
from billstream.tenants.models import Tenant
from billstream.tenants.service import load_context
from tests.factories import context_of, make_account, make_tenant, scope_of
from tests.integration.rating.test_rating_service import FEB, JAN, RETAIL, import_card

DAY = datetime(2026, 1, 10, 12, tzinfo=UTC)
# the carrier's cost: the UK like the retail card, and France, which no retail card has
COST = [
    {"prefix": "44", "rate": "0.02"},
    {"prefix": "447", "rate": "0.05"},
    {"prefix": "33", "rate": "0.04", "first_increment": "30", "next_increment": "6"},
    {"prefix": "336", "rate": "0.1", "first_increment": "1", "next_increment": "1"},
]
FRANCE = "+33123456789"  # cost: 61 s bills 66 s at 0.04 a minute = 0.044
FRANCE_MOBILE = "+33612345678"  # cost: 61 s at 0.10 a minute = 0.101667 (0.1016666…)


def calls(
    session: Session, root: Tenant, account: Account, *rows: tuple[str, int, int, str, str | None]
) -> None:
    """(key, hour of Jan 10, seconds, called, carrier) calls of `account`."""
    session.execute(
        insert(UsageRecord),
        [
            {
                "root_tenant_id": root.id,
                "record_key": key,
                "tenant_id": account.tenant_id,
                "account_id": account.id,
                "subscription_id": None,
                "usage_type": "voice",
                "started_at": DAY + timedelta(hours=hour),
                "duration_s": seconds,
                "quantity": 0,
                "calling": "+12125550100",
                "called": called,
                "carrier": carrier,
                "file_id": None,
                "line_no": None,
            }
            for key, hour, seconds, called, carrier in rows
        ],
    )


def rule(session: Session, clock: FakeClock, tenant: Tenant, percent: str, **options: Any) -> str:
    options.setdefault("effective_from", JAN)
    created = set_margin_rule(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        percent=Decimal(percent),
        **options,
    )
    return created.id


def rate(
    session: Session, clock: FakeClock, tenant: Tenant, *, rerate: bool = False
) -> tuple[RatingRun, dict[str, RatedUsage]]:
    run = rate_period(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        request=RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB, rerate=rerate),
    )
    rows = session.scalars(select(RatedUsage).where(RatedUsage.run_id == run.id))
    return run, {r.record_key: r for r in rows}


@pytest.fixture
def brand(session: Session, clock: FakeClock) -> tuple[Tenant, Tenant, Account]:
    """A parent company and its brand, whose customer called the UK and France."""
    parent = make_tenant(session, clock)
    brand = make_tenant(session, clock, parent=parent)
    account = make_account(session, clock, brand)
    import_card(session, clock, brand, RETAIL)
    import_card(session, clock, brand, COST, name="acme cost", kind=CardKind.COST, carrier="acme")
    calls(
        session,
        parent,
        account,
        ("uk", 0, 61, "+442071234567", "acme"),  # the card: 120 s x 0.06 = 0.12
        ("fr", 1, 61, FRANCE, "acme"),  # no retail rate; cost 0.044
        ("fr mobile", 2, 61, FRANCE_MOBILE, "acme"),  # no retail rate; cost 0.101667
        ("fr uncosted", 3, 61, FRANCE, None),  # no retail rate, no carrier: no cost
    )
    return parent, brand, account


def test_a_parent_rule_prices_its_brands_unrated_records_at_cost_plus_the_margin(
    session: Session, clock: FakeClock, brand: tuple[Tenant, Tenant, Account]
) -> None:
    # given the parent's rule: cost + 12.5 %
    parent, tenant, _account = brand
    rule_id = rule(session, clock, parent, "12.5")

    # when the brand's January is rated
    run, rows = rate(session, clock, tenant)

    # then the card still prices the UK, and France is cost + 12.5 %, billed as its cost
    uk, fr, mobile, uncosted = (rows[k] for k in ("uk", "fr", "fr mobile", "fr uncosted"))
    assert (uk.amount_micros, uk.margin_rule_id, uk.rate_id is not None) == (120_000, None, True)
    assert (fr.amount_micros, fr.cost_micros, fr.margin_micros) == (49_500, 44_000, 5_500)
    assert (fr.margin_rule_id, fr.reject_reason, fr.rate_id, fr.cost_prefix) == (
        rule_id,
        None,
        None,
        "33",
    )
    assert (fr.billed_s, fr.first_increment_s, fr.next_increment_s) == (66, 30, 6)
    # 101,667 x 1.125 = 114,375.375 → 114,375
    assert (mobile.cost_micros, mobile.amount_micros, mobile.billed_s) == (101_667, 114_375, 61)
    # and a record without a cost stays a "no rate" reject
    assert (uncosted.reject_reason, uncosted.margin_rule_id, uncosted.amount_micros) == (
        "no_rate",
        None,
        0,
    )
    assert (run.rated, run.rejected) == (3, 1)
    assert run.retail_micros == 120_000 + 49_500 + 114_375


def test_the_margin_report_puts_margin_priced_records_under_their_cost_destination(
    session: Session, clock: FakeClock, brand: tuple[Tenant, Tenant, Account]
) -> None:
    parent, tenant, _account = brand
    rule(session, clock, parent, "12.5")
    rate(session, clock, tenant)

    report = margin_report(
        session, ctx=context_of(session, tenant),
        group_by=MarginBy.DESTINATION,
    )  # fmt: skip

    by_key = {g.key: g for g in report.groups}
    # France (fixed and mobile) have no retail rate: they group by the cost card's prefix
    assert (by_key["33"].records, by_key["33"].retail_micros, by_key["33"].cost_micros) == (
        1,
        49_500,
        44_000,
    )
    assert (by_key["336"].retail_micros, by_key["336"].cost_micros) == (114_375, 101_667)
    assert None not in by_key


def test_a_brand_rule_with_a_prefix_and_a_minimum_overrides_the_parents_from_its_date(
    session: Session, clock: FakeClock, brand: tuple[Tenant, Tenant, Account]
) -> None:
    # given the parent's 12.5 % and, from Jan 10, the brand's own rule for French mobiles:
    # 1 %, but at least 0.03 a minute over cost
    parent, tenant, _account = brand
    inherited = rule(session, clock, parent, "12.5")
    own = rule(
        session,
        clock,
        tenant,
        "1",
        prefix="+336",
        usage_type="Voice",
        min_margin_micros=30_000,
        effective_from=date(2026, 1, 10),
    )

    _run, rows = rate(session, clock, tenant)

    # then France (no brand rule matches) keeps the parent's rule
    assert (rows["fr"].margin_rule_id, rows["fr"].amount_micros) == (inherited, 49_500)
    # and a French mobile pays cost + 0.03 x 61/60 = 101,667 + 30,500 (1 % would be 1,017)
    mobile = rows["fr mobile"]
    assert (mobile.margin_rule_id, mobile.amount_micros, mobile.margin_micros) == (
        own,
        132_167,
        30_500,
    )
    listed = list_margin_rules(session, ctx=context_of(session, tenant))
    assert [(r.id, r.prefix, r.usage_type, r.percent) for r in listed] == [
        (own, "336", "voice", Decimal(1))
    ]


def test_a_later_rule_replaces_an_earlier_one_and_rerating_prices_former_rejects(
    session: Session, clock: FakeClock, brand: tuple[Tenant, Tenant, Account]
) -> None:
    # given January rated without margin rules: France is a "no rate" reject
    _parent, tenant, _account = brand
    first, rows = rate(session, clock, tenant)
    assert rows["fr"].reject_reason == "no_rate"
    assert rows["fr"].margin_rule_id is None

    # when the brand prices at cost + 10 % from Jan 1, + 20 % from Jan 11, and re-rates
    rule(session, clock, tenant, "10")
    rule(session, clock, tenant, "20", effective_from=date(2026, 1, 11))
    second, rows = rate(session, clock, tenant, rerate=True)

    # then the Jan 10 call takes the rule in force then, and the difference shows
    assert rows["fr"].amount_micros == 48_400
    assert (second.rated, second.rejected) == (3, 1)
    assert second.retail_micros - second.superseded_micros == 48_400 + 111_834
    assert first.retail_micros == second.superseded_micros == 120_000


def _end(session: Session, clock: FakeClock, tenant: Tenant, **options: Any) -> MarginRule:
    return end_margin_rule(session, clock=clock, ctx=context_of(session, tenant), **options)


def test_an_ended_rule_gives_way_to_the_next_that_matches_or_to_none(
    session: Session, clock: FakeClock, brand: tuple[Tenant, Tenant, Account]
) -> None:
    # given the parent's 12.5 % for all and the brand's 1 % for French mobiles, from Jan 1
    parent, tenant, _account = brand
    inherited = rule(session, clock, parent, "12.5")
    own = rule(session, clock, tenant, "1", prefix="336")
    _run, rows = rate(session, clock, tenant)
    assert rows["fr mobile"].margin_rule_id == own

    # when the brand's rule ends from Jan 10 (the calls are that day), and the parent's on
    # Jan 11
    end = _end(session, clock, tenant, prefix="+336", effective_from=date(2026, 1, 10))
    _end(session, clock, parent, effective_from=date(2026, 1, 11))
    run, rows = rate(session, clock, tenant, rerate=True)

    # then French mobiles fall to the parent's rule: cost 101,667 + 12.5 % = 114,375
    mobile = rows["fr mobile"]
    assert (mobile.margin_rule_id, mobile.amount_micros) == (inherited, 114_375)
    assert (run.rated, run.rejected) == (3, 1)
    listed = list_margin_rules(session, ctx=context_of(session, tenant))
    assert [(r.id, r.percent) for r in listed] == [(own, Decimal(1)), (end.id, None)]

    # when the parent's rule is ended a day earlier, from Jan 10
    _end(session, clock, parent, effective_from=date(2026, 1, 10))
    _run, rows = rate(session, clock, tenant, rerate=True)

    # then no rule prices the French calls
    assert {rows[k].reject_reason for k in ("fr", "fr mobile")} == {"no_rate"}


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"prefix": "44"}, "no rule of that key"),
        ({"prefix": "336", "effective_from": date(2025, 12, 31)}, "before the rule starts"),
        ({"prefix": "336", "effective_from": date(2026, 1, 1)}, "the rule's own day"),
        ({"prefix": "336", "effective_from": date(2026, 2, 2)}, "already ended"),
    ],
)
def test_ending_what_is_not_in_force_is_a_conflict(
    session: Session, clock: FakeClock, options: dict[str, Any], reason: str
) -> None:
    # given a rule for 336 from Jan 1, ended from Feb 1
    tenant = make_tenant(session, clock)
    rule(session, clock, tenant, "1", prefix="336")
    _end(session, clock, tenant, prefix="336", effective_from=date(2026, 2, 1))
    count = session.scalar(select(func.count()).select_from(MarginRule))

    # when it is ended where no rule of the key is in force, then that is refused
    with pytest.raises(ConflictError) as conflict:
        _end(session, clock, tenant, **options)
    assert conflict.value.field == "effective_from", reason
    assert session.scalar(select(func.count()).select_from(MarginRule)) == count


def test_a_rule_of_another_tenant_prices_nothing_here(
    session: Session, clock: FakeClock, brand: tuple[Tenant, Tenant, Account]
) -> None:
    _parent, tenant, _account = brand
    rule(session, clock, make_tenant(session, clock), "50")
    _run, rows = rate(session, clock, tenant)
    assert {r.reject_reason for k, r in rows.items() if k != "uk"} == {"no_rate"}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"percent": Decimal(-100)}, "percent"),
        ({"percent": Decimal("10000.5")}, "percent"),
        ({"percent": Decimal("1.00001")}, "percent"),
        ({"prefix": "4x"}, "prefix"),
        ({"prefix": "0044"}, "prefix"),
        ({"usage_type": "not a type"}, "usage_type"),
        ({"usage_type": "x" * 33}, "usage_type"),
        ({"min_margin_micros": -1}, "min_margin"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(
    session: Session, clock: FakeClock, options: dict[str, Any], field: str
) -> None:
    tenant = make_tenant(session, clock)
    options.setdefault("percent", Decimal(10))
    with pytest.raises(InvalidInputError) as refused:
        set_margin_rule(session, clock=clock, ctx=context_of(session, tenant), **options)
    assert refused.value.field == field
    assert session.scalar(select(func.count()).select_from(MarginRule)) == 0


def test_a_second_rule_of_the_same_key_and_day_is_a_conflict_and_scopes_hold(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock)
    rule(session, clock, tenant, "10", prefix="44")
    rule(session, clock, tenant, "10")  # another key: every destination
    with pytest.raises(ConflictError) as conflict:
        rule(session, clock, tenant, "15", prefix="44")
    assert conflict.value.field == "effective_from"
    stranger = make_tenant(session, clock)
    with pytest.raises(BillstreamError):  # another tenant's operator cannot even load it
        load_context(session, scope=scope_of(session, stranger), tenant_id=tenant.id)
