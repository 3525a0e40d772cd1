"""Bill-run planning: which tenants one command covers and which day each bills."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from billstream.billing.service import plan_bill_runs
from billstream.core.clock import FakeClock
from billstream.core.errors import NotFoundError
from tests.factories import make_account, make_tenant

# 20:00 in London on Jan 15 is 05:00 on Jan 16 in Tokyo
EVENING = datetime(2026, 1, 15, 20, 0, tzinfo=UTC)


def test_a_tenant_and_its_brands_each_bill_yesterday_in_their_own_time_zone(
    session: Session, clock: FakeClock
) -> None:
    # given a London tenant with a Tokyo brand, and another tenant
    root = make_tenant(session, clock, slug="plan-root", timezone="Europe/London")
    brand = make_tenant(session, clock, parent=root, slug="plan-root-tokyo", timezone="Asia/Tokyo")
    make_tenant(session, clock, slug="plan-other")
    clock.set(EVENING)

    # when the runs of the tenant are planned without a date
    plan = plan_bill_runs(session, clock, tenant="plan-root")

    # then the tenant and its brand each bill the day that closed where they are
    assert [(p.tenant.slug, p.request.day) for p in plan] == [
        ("plan-root", date(2026, 1, 14)),
        ("plan-root-tokyo", date(2026, 1, 15)),
    ]
    assert plan[0].ctx.scope.tenant_ids == {root.id, brand.id}
    assert plan[1].ctx.scope.tenant_ids == {brand.id}


def test_listed_accounts_keep_only_the_tenants_that_hold_them(
    session: Session, clock: FakeClock
) -> None:
    # given a tenant and its brand, an account of the brand known by its external id
    root = make_tenant(session, clock, slug="held-root")
    brand = make_tenant(session, clock, parent=root, slug="held-brand")
    account = make_account(session, clock, brand, external_id="CRM-7")

    # when the runs of the tenant are planned for that account on a given date
    plan = plan_bill_runs(
        session, clock, tenant=root.id, day=date(2026, 1, 10), accounts=["CRM-7"], key="k1"
    )

    # then only the brand bills, that account, on that date, under that key
    assert [(p.tenant.id, p.request.accounts, p.request.day) for p in plan] == [
        (brand.id, (account.id,), date(2026, 1, 10))
    ]
    assert plan[0].request.key == "k1"


def test_without_a_tenant_every_tenant_has_its_run(session: Session, clock: FakeClock) -> None:
    # given two tenants
    first = make_tenant(session, clock, slug="every-a")
    second = make_tenant(session, clock, slug="every-b")

    # when the runs are planned without naming a tenant
    plan = plan_bill_runs(session, clock, day=date(2026, 1, 10), all_accounts=True)

    # then both have a run of every account
    runs = {p.tenant.id: p.request for p in plan}
    assert {first.id, second.id} <= set(runs)
    assert runs[first.id].all_accounts


@pytest.mark.parametrize(
    ("tenant", "accounts", "field"), [("nowhere", [], "tenant"), (None, ["nobody"], "account")]
)
def test_an_unknown_tenant_or_account_is_blamed_on_its_option(
    session: Session, clock: FakeClock, tenant: str | None, accounts: list[str], field: str
) -> None:
    # when a run is planned for a tenant or an account that does not exist
    with pytest.raises(NotFoundError) as raised:
        plan_bill_runs(session, clock, tenant=tenant, accounts=accounts)

    # then the error names the option
    assert raised.value.field == field
