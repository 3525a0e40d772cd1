"""Rate cards, dual rating, allowances, re-rating versions and lineage, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.core.errors import ConflictError
from billstream.mediation.models import UsageRecord
from billstream.mediation.service import accepted_usage_batches
from billstream.rating.models import CardKind, RateCardVersion, RatedUsage
from billstream.rating.service import (
    RatingRequest,
    import_rate_card,
    list_rated_usage,
    rate_period,
)
from billstream.rating.service.storage import RATED_USAGE_COLUMNS, store_rated_rows
from billstream.tenants.models import Tenant
from tests.factories import (
    apply_catalog_yaml,
    context_of,
    make_account,
    make_subscription,
    make_tenant,
    scope_of,
)

JAN = date(2026, 1, 1)
FEB = date(2026, 2, 1)
RETAIL = [
    {"prefix": "44", "description": "UK", "rate": "0.06"},
    {"prefix": "447", "description": "UK mobile", "rate": "0.12", "connect_fee": "0.01"},
]
COST = [{"prefix": "44", "rate": "0.02"}, {"prefix": "447", "rate": "0.05"}]


def import_card(
    session: Session, clock: FakeClock, tenant: Tenant, rows: list[dict[str, Any]], **options: Any
) -> Any:
    options.setdefault("name", "retail")
    options.setdefault("kind", CardKind.RETAIL)
    options.setdefault("effective_from", JAN)
    return import_rate_card(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        rows=rows,
        source="test.csv",
        **options,
    )


def add_calls(
    session: Session,
    tenant: Tenant,
    account: Account,
    *calls: tuple[Any, ...],
    root: Tenant | None = None,
) -> None:
    session.execute(
        insert(UsageRecord),
        [
            {
                "root_tenant_id": (root or tenant).id,
                "record_key": key,
                "tenant_id": tenant.id,
                "account_id": account.id,
                "subscription_id": None,
                "usage_type": "voice",
                "started_at": at,
                "duration_s": seconds,
                "quantity": 0,
                "calling": "+12125550100",
                "called": called,
                "carrier": "acme",
                "file_id": None,
                "line_no": None,
            }
            for key, at, seconds, called in calls
        ],
    )


@pytest.fixture
def setup(session: Session, clock: FakeClock) -> tuple[Tenant, Account]:
    tenant = make_tenant(session, clock)
    account = make_account(session, clock, tenant)
    day = datetime(2026, 1, 10, 12, tzinfo=UTC)
    add_calls(
        session,
        tenant,
        account,
        ("a", day, 61, "+442071234567"),  # 120 s x 0.06/min = 0.12
        ("b", day + timedelta(hours=1), 30, "+447700900123"),  # 0.01 + 60 s x 0.12 = 0.13
        ("c", day + timedelta(hours=2), 30, "+33123456789"),  # no rate
    )
    return tenant, account


def rows_of(session: Session, run_id: str) -> dict[str, RatedUsage]:
    rows = session.scalars(select(RatedUsage).where(RatedUsage.run_id == run_id))
    return {r.record_key: r for r in rows}


def test_a_card_import_reports_bad_rows_and_makes_versions(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock)
    rows = [*RETAIL, {"prefix": "0x", "rate": "1"}, {"prefix": "49", "rate": "-1"}]
    first = import_card(session, clock, tenant, rows)
    assert (first.version, first.rows, first.imported) == (1, 4, 2)
    assert [(e.line, e.column) for e in first.errors] == [(4, "prefix"), (5, "rate")]
    second = import_card(session, clock, tenant, RETAIL, effective_from=date(2026, 1, 15))
    assert second.version == 2
    versions = session.scalars(
        select(RateCardVersion)
        .where(RateCardVersion.card_id == first.card_id)
        .order_by(RateCardVersion.version)
    ).all()
    assert (
        versions[0].effective_to == versions[1].effective_from == datetime(2026, 1, 15, tzinfo=UTC)
    )
    with pytest.raises(ConflictError):
        import_card(session, clock, tenant, RETAIL, effective_from=date(2026, 1, 15))


def test_a_bulk_store_that_fails_raises_and_leaves_none_of_its_rows(
    session: Session, clock: FakeClock, setup: tuple[Tenant, Account]
) -> None:
    tenant, _account = setup
    import_card(session, clock, tenant, RETAIL)
    request = RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB)
    run = rate_period(session, clock=clock, ctx=context_of(session, tenant), request=request)
    stored = session.connection().execute(select(RatedUsage.__table__)).all()
    rows = pl.DataFrame(stored, schema=RATED_USAGE_COLUMNS, orient="row")
    fresh = rows.head(1).with_columns(pl.lit("ru_fresh").alias("id"))
    # when a batch holds one new row and rows whose ids are taken (COPY on PostgreSQL)
    savepoint = session.begin_nested()
    with pytest.raises(IntegrityError):  # SQLAlchemy's on both (COPY's too: `db.bulk`)
        store_rated_rows(session, pl.concat([fresh, rows]))
    savepoint.rollback()
    # then it raised, and not even its new row was written
    assert sorted(rows_of(session, run.id)) == ["a", "b", "c"]
    assert session.get(RatedUsage, "ru_fresh") is None


def test_a_brand_without_its_own_cost_card_is_costed_on_its_vendor_parents(
    session: Session, clock: FakeClock
) -> None:
    # given a parent company that buys from carrier acme for its brand, holding the cost card
    vendor = make_tenant(session, clock)
    brand = make_tenant(session, clock, parent=vendor)
    account = make_account(session, clock, brand)
    day = datetime(2026, 1, 10, 12, tzinfo=UTC)
    add_calls(
        session,
        brand,
        account,
        ("a", day, 61, "+442071234567"),  # cost 120 s x 0.02/min = 0.04
        ("b", day + timedelta(hours=1), 30, "+447700900123"),  # cost 60 s x 0.05/min = 0.05
        root=vendor,
    )
    import_card(session, clock, brand, RETAIL)
    import_card(session, clock, vendor, COST, name="acme cost", kind=CardKind.COST, carrier="acme")
    ctx = context_of(session, brand)
    request = RatingRequest(tenant_id=brand.id, start=JAN, end=FEB)
    run = rate_period(session, clock=clock, ctx=ctx, request=request)
    assert (run.retail_micros, run.cost_micros) == (250_000, 90_000)
    assert rows_of(session, run.id)["b"].cost_prefix == "447"
    # when the brand gets its own card for acme, it wins over the parent's
    own = [{"prefix": "44", "rate": "0.01"}, {"prefix": "447", "rate": "0.03"}]
    import_card(session, clock, brand, own, name="acme", kind=CardKind.COST, carrier="acme")
    again = RatingRequest(tenant_id=brand.id, start=JAN, end=FEB, rerate=True)
    rerun = rate_period(session, clock=clock, ctx=ctx, request=again)
    assert (rerun.retail_micros, rerun.cost_micros) == (250_000, 20_000 + 30_000)


def test_two_cost_cards_for_one_carrier_stop_only_a_run_that_needs_them(
    session: Session, clock: FakeClock
) -> None:
    # given a vendor with two cost cards for acme and one for bolt, and a brand's calls on acme
    vendor = make_tenant(session, clock)
    brand = make_tenant(session, clock, parent=vendor)
    account = make_account(session, clock, brand)
    day = datetime(2026, 1, 10, 12, tzinfo=UTC)
    add_calls(session, brand, account, ("a", day, 61, "+442071234567"), root=vendor)
    import_card(session, clock, brand, RETAIL)
    for name, carrier in (("acme 1", "acme"), ("acme 2", "acme"), ("bolt", "bolt")):
        import_card(session, clock, vendor, COST, name=name, kind=CardKind.COST, carrier=carrier)
    ctx = context_of(session, brand)
    # when the brand's period is rated, then the vendor's two acme cards are refused
    with pytest.raises(ConflictError, match="2 cost cards for everyone"):
        rate_period(
            session, clock=clock, ctx=ctx,
            request=RatingRequest(tenant_id=brand.id, start=JAN, end=FEB),
        )  # fmt: skip
    # when the brand has its own acme card, the vendor's are never looked at
    own = [{"prefix": "44", "rate": "0.01"}]
    import_card(session, clock, brand, own, name="acme", kind=CardKind.COST, carrier="acme")
    run = rate_period(
        session, clock=clock, ctx=ctx,
        request=RatingRequest(tenant_id=brand.id, start=JAN, end=FEB),
    )  # fmt: skip
    assert (run.retail_micros, run.cost_micros) == (120_000, 20_000)


def test_a_period_is_rated_at_retail_and_cost_with_lineage_and_a_parquet_copy(
    session: Session, clock: FakeClock, setup: tuple[Tenant, Account], tmp_path: Path
) -> None:
    tenant, _account = setup
    import_card(session, clock, tenant, RETAIL)
    import_card(session, clock, tenant, COST, name="acme cost", kind=CardKind.COST, carrier="acme")
    run = rate_period(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        request=RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB),
        data_dir=tmp_path,
    )
    assert (run.version, run.rated, run.rejected) == (1, 2, 1)
    assert (run.retail_micros, run.cost_micros) == (250_000, 90_000)
    rows = rows_of(session, run.id)
    b = rows["b"]
    assert (b.matched_prefix, b.band, b.billed_s, b.first_increment_s) == ("447", "weekend", 60, 60)
    assert (b.amount_micros, b.cost_prefix, b.cost_micros, b.margin_micros) == (
        130_000,
        "447",
        50_000,
        80_000,
    )
    assert rows["c"].reject_reason == "no_rate"
    assert b.rounding_rule_id is None  # no rounding rule: the rate's own increments billed it
    assert b.tier_set_id is None  # no tiers in force
    copy = pl.read_parquet(run.parquet_path or "")
    assert copy.height == 3
    assert copy["amount_micros"].sum() == 250_000


def test_rerating_supersedes_the_earlier_rows_and_shows_the_difference(
    session: Session, clock: FakeClock, setup: tuple[Tenant, Account]
) -> None:
    tenant, _account = setup
    scope = scope_of(session, tenant)
    ctx = context_of(session, tenant)
    import_card(session, clock, tenant, RETAIL)
    request = RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB)
    first = rate_period(session, clock=clock, ctx=ctx, request=request)
    with pytest.raises(ConflictError):
        rate_period(session, clock=clock, ctx=ctx, request=request)
    # the UK rate halves from Jan 5 (a new version), and the period is re-rated
    cheaper = [{"prefix": "44", "rate": "0.03"}, RETAIL[1]]
    import_card(session, clock, tenant, cheaper, effective_from=date(2026, 1, 5))
    again = RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB, rerate=True)
    second = rate_period(session, clock=clock, ctx=ctx, request=again)
    assert (second.version, second.superseded, second.superseded_micros) == (2, 3, 250_000)
    assert second.retail_micros - second.superseded_micros == -60_000
    current = list_rated_usage(session, scope=scope, limit=10).items
    assert {r.run_id for r in current} == {second.id}
    assert sum(r.amount_micros for r in current) == 190_000
    assert all(r.superseded_by == second.id for r in rows_of(session, first.id).values())
    # re-rating twice changes nothing but the version
    third = rate_period(session, clock=clock, ctx=ctx, request=again)
    assert (third.retail_micros, third.superseded_micros) == (190_000, 190_000)


PLAN = """\
effective_from: 2026-01-01
products:
  - {code: line, name: Line, kind: recurring}
price_list:
  - {product: line, currency: USD, model: {type: per_unit, unit_price: 10.00}}
plans:
  - code: talk
    name: Talk
    currencies: [USD]
    included: {voice_minutes: 1}
    charges:
      - {code: line, product: line}
"""


def test_included_minutes_are_consumed_first_in_time_order(
    session: Session, clock: FakeClock, setup: tuple[Tenant, Account]
) -> None:
    tenant, account = setup
    apply_catalog_yaml(session, clock, tenant, PLAN)
    make_subscription(session, clock, account, "talk", start_date=JAN)
    import_card(session, clock, tenant, RETAIL)
    run = rate_period(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        request=RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB),
    )
    rows = rows_of(session, run.id)
    # 1 included minute: call a (120 s) gets 60 s free, 60 s charged; call b pays in full
    assert (rows["a"].allowance_s, rows["a"].billed_s, rows["a"].amount_micros) == (60, 60, 60_000)
    assert (rows["b"].allowance_s, rows["b"].amount_micros) == (0, 130_000)


def test_a_period_rated_in_batches_of_accounts_equals_one_batch(
    session: Session, clock: FakeClock, setup: tuple[Tenant, Account], tmp_path: Path
) -> None:
    """Each account's allowance is consumed in time order within its own batch; the rows,
    the run's totals and the Parquet copy come out as from one batch."""
    tenant, first = setup
    apply_catalog_yaml(session, clock, tenant, PLAN)
    import_card(session, clock, tenant, RETAIL)
    import_card(session, clock, tenant, COST, name="acme cost", kind=CardKind.COST, carrier="acme")
    day = datetime(2026, 1, 20, 9, tzinfo=UTC)
    accounts = [first, *(make_account(session, clock, tenant) for _ in range(3))]
    for n, account in enumerate(accounts):
        make_subscription(session, clock, account, "talk", start_date=JAN)
        if n:  # the first has setup's calls
            add_calls(
                session,
                tenant,
                account,
                *(
                    (f"{n}-{i}", day + timedelta(minutes=i), 45 + i, "+447700900123")
                    for i in range(n)
                ),
            )

    def rate(batch_records: int, rerate: bool) -> Any:
        return rate_period(
            session,
            clock=clock,
            ctx=context_of(session, tenant),
            request=RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB, rerate=rerate),
            data_dir=tmp_path,
            batch_records=batch_records,
        )

    batches = accepted_usage_batches(
        session,
        scope=scope_of(session, tenant),
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2026, 2, 1, tzinfo=UTC),
        size=2,
    )
    heights = [
        (frame.height, frame["account_id"].n_unique())
        for frame in map(pl.LazyFrame.collect, batches)
    ]
    assert heights == [(3, 1), (1, 1), (2, 1), (3, 1)]  # whole accounts, in about twos
    batched = rate(2, rerate=False)
    batched_rows = rows_of(session, batched.id)
    whole = rate(1_000_000, rerate=True)
    whole_rows = rows_of(session, whole.id)

    def facts(rows: dict[str, RatedUsage]) -> dict[str, tuple[Any, ...]]:
        return {
            key: (r.account_id, r.allowance_s, r.billed_s, r.amount_micros, r.cost_micros)
            for key, r in rows.items()
        }

    assert facts(batched_rows) == facts(whole_rows)
    assert len(batched_rows) == 9
    assert sum(r.allowance_s for r in batched_rows.values()) == 4 * 60  # one minute each
    totals = ("rated", "rejected", "retail_micros", "cost_micros")
    assert [getattr(batched, t) for t in totals] == [getattr(whole, t) for t in totals]
    # ids follow (account, time) across batches, as they do in one
    by_id = sorted(batched_rows.values(), key=lambda r: r.id)
    assert [(r.account_id, r.started_at) for r in by_id] == sorted(
        (r.account_id, r.started_at) for r in by_id
    )
    copy = pl.read_parquet(batched.parquet_path or "")
    assert sorted(copy["record_key"].to_list()) == sorted(batched_rows)
    assert copy["amount_micros"].sum() == batched.retail_micros  # a reject charges 0
    # the part files were merged and removed
    assert sorted(p.name for p in (tmp_path / "rated" / tenant.id).iterdir()) == sorted(
        [f"{batched.id}.parquet", f"{whole.id}.parquet"]
    )


def test_a_customer_special_card_overrides_the_tenant_card(
    session: Session, clock: FakeClock, setup: tuple[Tenant, Account]
) -> None:
    tenant, account = setup
    import_card(session, clock, tenant, RETAIL)
    special = [{"prefix": "4", "rate": "0.01"}]  # shorter than the card's prefixes, still wins
    import_card(session, clock, tenant, special, name="vip", account_id=account.id)
    run = rate_period(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        request=RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB),
    )
    rows = rows_of(session, run.id)
    assert [(rows[k].matched_prefix, rows[k].amount_micros) for k in "ab"] == [
        ("4", 20_000),
        ("4", 10_000),
    ]


def test_per_row_effective_dates_narrow_a_rate_and_the_longest_prefix_in_force_wins(
    session: Session, clock: FakeClock, setup: tuple[Tenant, Account]
) -> None:
    tenant, _account = setup
    rows = [
        RETAIL[0],
        # the mobile rate ends before the calls of Jan 10: call b falls back to 44
        {**RETAIL[1], "effective_to": "2026-01-10"},
        # France opens on Jan 10 at 14:00 UTC exactly, call c's start
        {"prefix": "33", "rate": "0.6", "effective_from": "2026-01-10T14:00:00+00:00"},
        {"prefix": "49", "rate": "0.1", "effective_from": "2026-01-10", "effective_to": "bad"},
    ]
    card = import_card(session, clock, tenant, rows)
    assert [(e.line, e.column) for e in card.errors] == [(5, "effective_to")]
    run = rate_period(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        request=RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB),
    )
    rated = rows_of(session, run.id)
    assert [(rated[k].matched_prefix, rated[k].amount_micros) for k in "abc"] == [
        ("44", 120_000),
        ("44", 60_000),
        ("33", 600_000),
    ]
    assert {rated[k].card_version_id for k in "abc"} == {card.version_id}
