"""The margin report of dual rating, per carrier, destination and customer, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.core.errors import InvalidInputError
from billstream.mediation.models import UsageRecord
from billstream.rating.models import CardKind
from billstream.rating.service import RatingRequest, rate_period
from billstream.rating.service.margin import MarginBy, MarginReport, margin_report
from billstream.tenants.models import Tenant
from tests.factories import context_of, make_account, make_tenant
from tests.integration.rating.test_rating_service import COST, FEB, JAN, RETAIL, import_card

DAY = datetime(2026, 1, 10, 12, tzinfo=UTC)


def _calls(session: Session, tenant: Tenant, *calls: tuple[Any, ...]) -> None:
    session.execute(
        insert(UsageRecord),
        [
            {
                "root_tenant_id": tenant.id,
                "record_key": key,
                "tenant_id": tenant.id,
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
            for key, account, hour, seconds, called, carrier in calls
        ],
    )


@pytest.fixture
def rated(session: Session, clock: FakeClock) -> tuple[Tenant, Account, Account]:
    tenant = make_tenant(session, clock)
    one, two = make_account(session, clock, tenant), make_account(session, clock, tenant)
    _calls(
        session,
        tenant,
        ("a", one, 0, 61, "+442071234567", "acme"),  # retail 0.12, cost 0.04
        ("b", one, 1, 30, "+447700900123", "acme"),  # retail 0.13, cost 0.05
        ("d", two, 2, 90, "+447700900124", "zed"),  # retail 0.01 + 0.24; zed has no cost card
        ("c", two, 3, 30, "+33123456789", "acme"),  # no rate: a reject, left out
    )
    import_card(session, clock, tenant, RETAIL)
    import_card(session, clock, tenant, COST, name="acme cost", kind=CardKind.COST, carrier="acme")
    ctx = context_of(session, tenant)
    request = RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB)
    rate_period(session, clock=clock, ctx=ctx, request=request)
    # re-rated: the superseded rows must not count twice
    again = RatingRequest(tenant_id=tenant.id, start=JAN, end=FEB, rerate=True)
    rate_period(session, clock=clock, ctx=ctx, request=again)
    return tenant, one, two


def _report(session: Session, tenant: Tenant, by: MarginBy, **options: Any) -> MarginReport:
    return margin_report(
        session,
        ctx=context_of(session, tenant),
        group_by=by,
        start=JAN,
        end=FEB,
        **options,
    )


def _figures(report: MarginReport) -> list[tuple[Any, ...]]:
    return [
        (
            g.key,
            g.label,
            g.records,
            g.billed_minutes,
            g.retail_micros,
            g.cost_micros,
            g.margin_micros,
            g.uncosted,
        )
        for g in report.groups
    ]


def test_margin_per_carrier(session: Session, rated: tuple[Tenant, Account, Account]) -> None:
    tenant, _one, _two = rated
    report = _report(session, tenant, MarginBy.CARRIER)
    assert _figures(report) == [
        ("zed", "zed", 1, Decimal(2), 250_000, 0, 250_000, 1),
        ("acme", "acme", 2, Decimal(3), 250_000, 90_000, 160_000, 0),
    ]
    [total] = report.totals
    assert (total.currency, total.records, total.billed_s) == ("USD", 3, 300)
    assert (total.retail_micros, total.cost_micros, total.margin_micros) == (
        500_000,
        90_000,
        410_000,
    )
    assert not report.truncated


def test_margin_per_destination_with_the_rate_description(
    session: Session, rated: tuple[Tenant, Account, Account]
) -> None:
    tenant, _one, _two = rated
    assert _figures(_report(session, tenant, MarginBy.DESTINATION)) == [
        ("447", "UK mobile", 2, Decimal(3), 380_000, 50_000, 330_000, 1),
        ("44", "UK", 1, Decimal(2), 120_000, 40_000, 80_000, 0),
    ]


def test_margin_per_customer_limited_to_the_largest(
    session: Session, rated: tuple[Tenant, Account, Account]
) -> None:
    tenant, one, two = rated
    assert _figures(_report(session, tenant, MarginBy.CUSTOMER)) == [
        (two.id, two.name, 1, Decimal(2), 250_000, 0, 250_000, 1),
        (one.id, one.name, 2, Decimal(3), 250_000, 90_000, 160_000, 0),
    ]
    top = _report(session, tenant, MarginBy.CUSTOMER, limit=1)
    assert ([g.key for g in top.groups], top.truncated) == ([two.id], True)
    assert top.totals[0].margin_micros == 410_000


def test_another_tenant_and_an_empty_period_have_no_groups(
    session: Session, clock: FakeClock, rated: tuple[Tenant, Account, Account]
) -> None:
    other = make_tenant(session, clock)
    report = _report(session, other, MarginBy.CARRIER)
    assert (report.groups, report.totals) == ([], [])
    with pytest.raises(InvalidInputError):
        _report(session, other, MarginBy.CARRIER, limit=0)
