"""Account import: every row counted once; a bad row is reported and the file goes on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts import service
from billstream.accounts.models import Account
from billstream.accounts.service import ImportReport, RowError
from billstream.core.clock import FakeClock
from billstream.tenants.models import Tenant
from tests.factories import context_of, make_account, make_tenant

Row = dict[str, str | None]

FILE: list[Row] = [
    {"external_id": "abc", "name": "Org ABC", "currency": "usd", "email": "ap@abc.example"},
    {"external_id": "sales", "name": "Sales", "parent_external_id": "abc",
     "billing_mode": "billed_to_parent", "type": "department"},
    {"external_id": "support", "name": "Support", "parent_external_id": "abc",
     "billing_address_country": "gb", "billing_address_city": "London"},
    {"external_id": "tier1", "name": "Tier1", "parent_external_id": "support",
     "billing_mode": "billed_to_parent", "phone": "+44 20 7123 4567"},
    {"external_id": "bad-email", "name": "Bad", "email": "nope"},
    {"external_id": "orphan", "name": "Orphan", "parent_external_id": "nobody"},
    {"external_id": "", "name": "No id"},
    {"external_id": "abc", "name": "ABC again"},
    {"external_id": "lonely", "name": "Lonely", "billing_mode": "billed_to_parent"},
    {"external_id": "anniv", "name": "Anniversary", "billing_cycle": "anniversary",
     "billing_day": "15", "payment_terms_days": "14", "auto_pay": "true"},
]  # fmt: skip


def run(session: Session, clock: FakeClock, tenant: Tenant, rows: list[Row]) -> ImportReport:
    return service.import_accounts(session, clock=clock, ctx=context_of(session, tenant), rows=rows)


def stored(session: Session, tenant: Tenant) -> dict[str, Account]:
    accounts = session.scalars(select(Account).where(Account.tenant_id == tenant.id))
    return {a.external_id or "": a for a in accounts}


def test_a_file_with_good_and_bad_rows(session: Session, clock: FakeClock) -> None:
    # given a tenant and a file mixing good rows, bad rows and children after their parents
    tenant = make_tenant(session, clock, currency="USD")
    # when imported
    report = run(session, clock, tenant, FILE)
    # then each row is counted once, bad rows are reported and the rest are created
    assert (report.rows, report.created, report.updated, report.unchanged, report.rejected) == (
        10,
        5,
        0,
        0,
        5,
    )
    assert [(e.line, e.external_id, e.field) for e in report.errors] == [
        (6, "bad-email", "email"),
        (7, "orphan", "parent_external_id"),
        (8, None, "external_id"),
        (9, "abc", "external_id"),
        (10, "lonely", "parent_external_id"),
    ]
    accounts = stored(session, tenant)
    assert sorted(accounts) == ["abc", "anniv", "sales", "support", "tier1"]
    # and parents defined earlier in the file are linked, values normalised
    assert accounts["sales"].parent_id == accounts["abc"].id
    assert accounts["tier1"].parent_id == accounts["support"].id
    assert accounts["abc"].currency == "USD"
    assert accounts["support"].billing_address == {"country": "GB", "city": "London"}
    assert accounts["tier1"].phone == "+442071234567"
    assert (accounts["anniv"].billing_day, accounts["anniv"].payment_terms_days) == (15, 14)
    assert accounts["anniv"].auto_pay is True
    assert service.paying_account_of(session, accounts["tier1"]) == accounts["support"].id


def test_re_importing_the_same_file_changes_nothing(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, currency="USD")
    run(session, clock, tenant, FILE)
    before = {k: (a.id, a.updated_at) for k, a in stored(session, tenant).items()}
    clock.advance(timedelta(days=1))
    report = run(session, clock, tenant, FILE)
    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 0, 5, 5)
    assert {k: (a.id, a.updated_at) for k, a in stored(session, tenant).items()} == before


def test_changed_rows_update_and_a_changed_parent_or_mode_is_rejected(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock, currency="USD")
    run(session, clock, tenant, FILE[:4])
    rows: list[Row] = [
        {"external_id": "abc", "name": "Org ABC Ltd", "email": "ap@abc.example"},
        {"external_id": "sales", "name": "Sales", "parent_external_id": "support",
         "billing_mode": "billed_to_parent", "type": "department"},
        {"external_id": "support", "name": "Support", "parent_external_id": "abc",
         "billing_mode": "billed_to_parent"},
        {"external_id": "tier1", "name": "Tier1", "parent_external_id": "support",
         "billing_mode": "billed_to_parent", "phone": "+44 20 7123 4567"},
        {"external_id": "new", "name": "New", "parent_external_id": "tier1",
         "billing_mode": "billed_to_parent"},
    ]  # fmt: skip
    report = run(session, clock, tenant, rows)
    assert (report.created, report.updated, report.unchanged, report.rejected) == (1, 1, 1, 2)
    assert [(e.external_id, e.field) for e in report.errors] == [
        ("sales", "parent_external_id"),
        ("support", "billing_mode"),
    ]
    accounts = stored(session, tenant)
    assert accounts["abc"].name == "Org ABC Ltd"
    assert service.paying_account_of(session, accounts["new"]) == accounts["support"].id


def test_a_row_leaving_out_the_billing_day_keeps_the_stored_one(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock)
    run(session, clock, tenant, [FILE[-1]])
    rows: list[Row] = [
        {"external_id": "anniv", "name": "Anniversary", "billing_cycle": "anniversary"},
        {"external_id": "cal", "name": "Calendar", "billing_cycle": "anniversary"},
    ]
    report = run(session, clock, tenant, rows)
    assert (report.unchanged, report.rejected) == (1, 1)
    assert report.errors[0].field == "billing_day"
    assert stored(session, tenant)["anniv"].billing_day == 15


def test_a_row_may_name_an_already_stored_parent(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, currency="EUR")
    make_account(session, clock, tenant, name="Stored", external_id="stored", currency="GBP")
    report = run(
        session, clock, tenant,
        [{"external_id": "child", "name": "Child", "parent_external_id": "stored",
          "billing_mode": "billed_to_parent"},
         {"external_id": "wrong", "name": "Wrong", "parent_external_id": "stored",
          "billing_mode": "billed_to_parent", "currency": "EUR"}],
    )  # fmt: skip
    assert (report.created, report.rejected) == (1, 1)
    assert report.errors == [
        RowError(3, "wrong", "currency", "the paying account bills in GBP"),
    ]
    assert stored(session, tenant)["child"].currency == "GBP"


def test_an_unknown_column_rejects_the_row_naming_it(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock)
    report = run(session, clock, tenant, [{"external_id": "x", "name": "X", "colour": "red"}])
    assert (report.created, report.rejected) == (0, 1)
    assert report.errors[0].field == "colour"
