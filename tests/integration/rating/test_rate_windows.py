"""One destination priced twice in one card file, with effective windows apart: a price change
mid-month rates each call at the price of its start, on both databases; overlapping windows
refuse the file and write nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.core.errors import InvalidInputError
from billstream.mediation.service import accepted_usage
from billstream.rating.models import Rate, RateCard, RateCardVersion
from billstream.rating.reference import rate_records
from billstream.rating.service import RatingRequest, rate_period, retail_rates
from billstream.rating.service.cards import local_midnight
from billstream.tenants.models import Tenant
from tests.factories import context_of, make_account, make_tenant, scope_of
from tests.integration.rating.test_rating_service import add_calls, import_card, rows_of

PARIS = "Europe/Paris"
JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
PRICE_CHANGE = [
    {"prefix": "44", "description": "UK", "rate": "0.06", "effective_to": "2026-02-01"},
    {"prefix": "44", "description": "UK", "rate": "0.03", "effective_from": "2026-02-01"},
    {"prefix": "447", "description": "UK mobile", "rate": "0.12"},
]
UK = "+442071234567"


@pytest.fixture
def paris(session: Session, clock: FakeClock) -> tuple[Tenant, Account]:
    tenant = make_tenant(session, clock, timezone=PARIS)
    return tenant, make_account(session, clock, tenant)


def _rate_month(session: Session, clock: FakeClock, tenant: Tenant, start: date, end: date) -> Any:
    request = RatingRequest(tenant_id=tenant.id, start=start, end=end)
    return rate_period(session, clock=clock, ctx=context_of(session, tenant), request=request)


def _reference(session: Session, tenant: Tenant, start: date, end: date) -> dict[str, Any]:
    """The per-record reference rater over the same card frame and usage as the run."""
    since, until = local_midnight(start, PARIS), local_midnight(end, PARIS)
    card, _currency = retail_rates(session, tenant_id=tenant.id, start=since, end=until)
    usage = accepted_usage(session, scope=scope_of(session, tenant), start=since, end=until)
    rated = rate_records(usage.collect().to_dicts(), card.collect().to_dicts(), timezone=PARIS)
    return {r.record_key: r for r in rated}


def test_a_price_change_mid_file_rates_each_month_at_its_own_price(
    session: Session, clock: FakeClock, paris: tuple[Tenant, Account]
) -> None:
    # given UK calls of 61 s (billed 120 s) either side of Feb 1, Paris midnight (23:00 UTC)
    tenant, account = paris
    add_calls(
        session,
        tenant,
        account,
        ("jan", datetime(2026, 1, 20, 10, tzinfo=UTC), 61, UK),
        ("last", datetime(2026, 1, 31, 22, 59, 59, tzinfo=UTC), 61, UK),  # 23:59:59 Paris
        ("first", datetime(2026, 1, 31, 23, tzinfo=UTC), 61, UK),  # Feb 1 00:00 Paris
        ("feb", datetime(2026, 2, 10, 10, tzinfo=UTC), 61, UK),
        ("mobile", datetime(2026, 2, 10, 11, tzinfo=UTC), 30, "+447700900123"),
    )
    # and one card file pricing 44 at 0.06 until Feb 1 and at 0.03 from then

    # when it is imported
    card = import_card(session, clock, tenant, PRICE_CHANGE)

    # then every row is one rate of one version, each with its own window
    assert (card.version, card.imported, card.errors) == (1, 3, [])
    windows = session.execute(
        select(Rate.rate_micros, Rate.effective_from, Rate.effective_to)
        .where(Rate.version_id == card.version_id, Rate.prefix == "44")
        .order_by(Rate.rate_micros)
    ).all()
    feb_paris = datetime(2026, 1, 31, 23, tzinfo=UTC)
    assert [tuple(w) for w in windows] == [(30_000, feb_paris, None), (60_000, None, feb_paris)]

    # when January and February are rated
    january = _rate_month(session, clock, tenant, JAN, FEB)
    february = _rate_month(session, clock, tenant, FEB, MAR)

    # then January's calls pay 0.06/min and February's 0.03/min, from one card version
    jan_rows, feb_rows = rows_of(session, january.id), rows_of(session, february.id)
    assert {k: r.amount_micros for k, r in jan_rows.items()} == {"jan": 120_000, "last": 120_000}
    assert {k: r.amount_micros for k, r in feb_rows.items()} == {
        "first": 60_000,
        "feb": 60_000,
        "mobile": 120_000,  # 447 has no window: 60 s x 0.12
    }
    assert (january.retail_micros, february.retail_micros) == (240_000, 240_000)
    assert jan_rows["jan"].rate_id == jan_rows["last"].rate_id != feb_rows["first"].rate_id
    assert feb_rows["first"].rate_id == feb_rows["feb"].rate_id
    every = [*jan_rows.values(), *feb_rows.values()]
    assert {r.card_version_id for r in every} == {card.version_id}
    assert {r.matched_prefix for r in every} == {"44", "447"}

    # and the per-record reference rater gives the same rate and amount to each call
    for start, end, rows in ((JAN, FEB, jan_rows), (FEB, MAR, feb_rows)):
        reference = _reference(session, tenant, start, end)
        assert {k: (r.rate_id, r.matched_prefix, r.amount_micros) for k, r in rows.items()} == {
            k: (r.rate_id, r.matched_prefix, r.amount_micros) for k, r in reference.items()
        }


def _stored(session: Session, tenant: Tenant) -> tuple[int, int, int]:
    def count(model: Any) -> int:
        return int(
            session.scalar(
                select(func.count()).select_from(model).where(model.tenant_id == tenant.id)
            )
            or 0
        )

    return count(RateCard), count(RateCardVersion), count(Rate)


def test_overlapping_windows_refuse_the_file_and_write_nothing(
    session: Session, clock: FakeClock, paris: tuple[Tenant, Account]
) -> None:
    # given a card already in force from January
    tenant, _account = paris
    first = import_card(session, clock, tenant, PRICE_CHANGE)
    assert _stored(session, tenant) == (1, 1, 3)

    # when a new version's file prices 44 twice over Jan 31 (and a new card's file too)
    overlapping = [
        {"prefix": "44", "rate": "0.06", "effective_to": "2026-02-01"},
        {"prefix": "447", "rate": "0.12"},
        {"prefix": "44", "rate": "0.03", "effective_from": "2026-01-31"},
    ]
    with pytest.raises(InvalidInputError) as refused:
        import_card(session, clock, tenant, overlapping, effective_from=date(2026, 1, 15))
    with pytest.raises(InvalidInputError):
        import_card(session, clock, tenant, overlapping, name="other")

    # then the error names the later row's line and column, and the earlier line
    assert refused.value.field == "line 4: effective_from"
    assert refused.value.detail == (
        "rows of one prefix, usage type and band have overlapping effective windows, so nothing "
        "was imported: line 4 effective_from: 44 voice all [2026-01-31, open) overlaps line 2 "
        "[version start, 2026-02-01)"
    )
    # and nothing was written: no card, no version, no rate; the old version still open
    assert _stored(session, tenant) == (1, 1, 3)
    version = session.get(RateCardVersion, first.version_id)
    assert version is not None
    assert version.effective_to is None
