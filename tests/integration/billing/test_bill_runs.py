"""Bill runs on both databases: SPEC's proration table through the month-end runs, advance
billing, idempotence, dry runs, failures that stay with their account, refused requests."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from billstream.billing.models import BillRunItem, InvoiceLine
from billstream.billing.service.runs import BillRunRequest, dry_run
from billstream.core.clock import FakeClock
from billstream.core.errors import InvalidInputError, NotFoundError
from billstream.jobs import bill_runs
from billstream.jobs.collector import MIDDLE, OLD, YOUNG
from billstream.subscriptions.models import SubscriptionChange
from billstream.subscriptions.schemas import ChangeCreate
from billstream.subscriptions.service import CLI_ACTOR, change_subscription
from tests.factories import (
    apply_catalog_yaml,
    context_of,
    make_account,
    make_subscription,
    make_tenant,
    scope_of,
)
from tests.integration.billing.helpers import (
    at,
    counts,
    invoices_of,
    lines_of,
    numbers_catalog,
    numbers_tenant,
    preview,
    run,
    spec_account,
    spec_orders,
)


def test_spec_proration_table_through_month_end_bill_runs(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given SPEC C4's orders on a postpaid (in arrears) numbers plan, calendar billing
    tenant, account = spec_account(session, clock, "arrears")

    # when the bill runs of Jan 31 and Feb 28 run, each the day after
    clock.set(at(date(2026, 2, 1)))
    january = run(session_factory, clock, tenant, date(2026, 1, 31))
    clock.set(at(date(2026, 3, 1)))
    february = run(session_factory, clock, tenant, date(2026, 2, 28))

    # then each invoices its month: SPEC's lines and totals, at cents
    assert (january.invoiced, february.invoiced) == (1, 1)
    jan, feb = invoices_of(session, account.id)
    assert [(line.amount, line.quantity) for line in lines_of(session, jan.id)] == [
        (Decimal("250.00"), Decimal(50)),
        (Decimal("25.81"), Decimal(10)),
    ]
    assert [line.amount for line in lines_of(session, feb.id)] == [
        Decimal("257.14"),
        Decimal("39.29"),
    ]
    assert (jan.total, feb.total) == (Decimal("275.81"), Decimal("296.43"))
    assert (jan.number, feb.number) == ("INV-2026-000001", "INV-2026-000002")
    assert (jan.status, jan.period_start, jan.period_end) == (
        "issued",
        date(2026, 1, 1),
        date(2026, 2, 1),
    )


def test_advance_billing_charges_the_coming_period_at_the_close(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given the same orders on a prepaid (in advance) plan, placed in December
    tenant, account = spec_account(session, clock, "advance")

    # when December closes
    clock.set(at(date(2026, 1, 1)))
    run(session_factory, clock, tenant, date(2025, 12, 31))

    # then January is billed ahead; at January's close, February (with its known change)
    [december] = invoices_of(session, account.id)
    assert december.total == Decimal("275.81")
    clock.set(at(date(2026, 2, 1)))
    run(session_factory, clock, tenant, date(2026, 1, 31))
    assert invoices_of(session, account.id)[-1].total == Decimal("296.43")
    clock.set(at(date(2026, 3, 1)))
    run(session_factory, clock, tenant, date(2026, 2, 28))
    assert invoices_of(session, account.id)[-1].total == Decimal("275.00")  # 55 for March


def test_a_change_recorded_after_its_period_was_billed_is_credited_and_recharged(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given 50 numbers in advance, January billed at December's close
    tenant = numbers_tenant(session, clock, "advance")
    account = make_account(session, clock, tenant)
    sub = make_subscription(
        session, clock, account, "numbers", quantity=Decimal(50), start_date=date(2026, 1, 1)
    )
    session.commit()
    clock.set(at(date(2026, 1, 1)))
    run(session_factory, clock, tenant, date(2025, 12, 31))

    # when on Jan 25 the customer drops to 45 numbers from that day, and January closes
    clock.set(at(date(2026, 1, 25)))
    change_subscription(
        session,
        clock=clock,
        scope=scope_of(session, tenant),
        subscription_id=sub.subscription.id,
        data=ChangeCreate.model_validate(
            {"kind": "quantity", "quantity": 45, "effective": "now", "reason": "fewer lines"}
        ),
        actor=CLI_ACTOR,
    )
    session.commit()
    clock.set(at(date(2026, 2, 1)))
    run(session_factory, clock, tenant, date(2026, 1, 31))

    # then January's line is credited and recharged in its two parts, beside February's 45
    january = invoices_of(session, account.id)[-1]
    assert [(x.kind, x.quantity, x.amount) for x in lines_of(session, january.id)] == [
        ("recurring", Decimal(50), Decimal("193.55")),
        ("recurring", Decimal(45), Decimal("50.81")),
        ("recurring", Decimal(45), Decimal("225.00")),
        ("credit", Decimal(-50), Decimal("-250.00")),
    ]
    assert january.total == Decimal("219.36")


def test_running_again_changes_nothing(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    tenant, _account = spec_account(session, clock, "arrears")
    clock.set(at(date(2026, 2, 1)))
    first = run(session_factory, clock, tenant, date(2026, 1, 31))
    before = counts(session)

    # when the same run runs again, and a run of another key bills every account that day
    again = run(session_factory, clock, tenant, date(2026, 1, 31))
    other = run(session_factory, clock, tenant, date(2026, 1, 31), all_accounts=True)

    # then the first is returned as it was, and the other finds nothing left to bill
    assert again.run_id == first.run_id
    assert (other.invoiced, other.nothing_due) == (0, 1)
    assert counts(session)[:2] == before[:2]


def test_chunks_are_billed_with_rare_cycle_collections_and_the_collector_restored(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    tenant, _account = spec_account(session, clock, "arrears")
    clock.set(at(date(2026, 2, 1)))
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []

    summary = bill_runs.execute_bill_run(
        session_factory,
        clock,
        ctx=context_of(session, tenant),
        request=BillRunRequest(tenant_id=tenant.id, day=date(2026, 1, 31)),
        actor="test",
        progress=lambda _done, _total: seen.append(gc.get_threshold()),
    )

    # progress is told once before the chunks, then after each chunk
    assert summary.invoiced == 1
    assert seen[0] == before
    assert seen[1:] == [(YOUNG, MIDDLE, OLD)]
    assert gc.get_threshold() == before


def test_a_large_run_refreshes_the_planners_statistics_as_it_writes(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL plans the run's reads of invoice lines with statistics that see the lines
    it wrote (`runs.refresh_statistics`); SQLite has none to refresh."""
    monkeypatch.setattr(bill_runs, "ANALYSE_FROM", 1)  # this one account is a "large" run
    tenant, _account = spec_account(session, clock, "arrears")
    clock.set(at(date(2026, 2, 1)))

    summary = run(session_factory, clock, tenant, date(2026, 1, 31))

    assert summary.invoiced == 1
    lines = session.scalar(select(func.count()).select_from(InvoiceLine))
    assert lines
    if session.get_bind().dialect.name == "postgresql":
        # ANALYZE after the first chunk counted the lines just written (its own transaction's)
        estimate = session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = 'invoice_lines'::regclass")
        )
        assert estimate == lines


def test_a_dry_run_shows_the_invoices_and_writes_nothing(
    session: Session, clock: FakeClock
) -> None:
    tenant, _account = spec_account(session, clock, "arrears")
    clock.set(at(date(2026, 2, 1)))
    before = counts(session)

    result = preview(session, clock, tenant, date(2026, 1, 31))

    assert [d.total.amount for d in result.invoices] == [Decimal("275.81")]
    assert counts(session) == before


def test_a_broken_account_fails_alone(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given two accounts; one bills in GBP while its subscription is in USD
    tenant = numbers_tenant(session, clock, "arrears")
    good = make_account(session, clock, tenant, name="Good")
    bad = make_account(session, clock, tenant, name="Bad")
    spec_orders(session, clock, tenant, good)
    spec_orders(session, clock, tenant, bad)
    bad.currency = "GBP"
    session.commit()

    clock.set(at(date(2026, 2, 1)))
    summary = run(session_factory, clock, tenant, date(2026, 1, 31))

    assert (summary.invoiced, summary.failed, summary.status) == (1, 1, "completed")
    assert invoices_of(session, bad.id) == []
    assert invoices_of(session, good.id)[0].total == Decimal("275.81")


def test_refused_requests(session: Session, clock: FakeClock) -> None:
    clock.set(at(date(2026, 1, 15)))
    tenant = make_tenant(session, clock)
    other = make_tenant(session, clock)
    with pytest.raises(InvalidInputError) as future:
        preview(session, clock, tenant, date(2026, 1, 31))
    assert future.value.field == "date"
    with pytest.raises(NotFoundError):
        dry_run(
            session,
            clock,
            ctx=context_of(session, tenant),
            request=BillRunRequest(tenant_id=other.id, day=date(2026, 1, 10)),
        )


def _statements(session: Session, work: Callable[[], object]) -> int:
    """How many SQL statements `work` sends through the session's connection."""
    count = 0

    def counted(*_args: object) -> None:
        nonlocal count
        count += 1

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", counted)
    try:
        work()
    finally:
        event.remove(connection, "before_cursor_execute", counted)
    return count


def test_a_chunk_costs_the_same_queries_for_5_accounts_as_for_20(
    session: Session, clock: FakeClock
) -> None:
    # given two tenants alike but for their size: 5 and 20 accounts, a tree in each
    clock.set(at(date(2025, 12, 20)))
    sizes = {}
    for size in (5, 20):
        tenant = make_tenant(session, clock)
        apply_catalog_yaml(session, clock, tenant, numbers_catalog("arrears"))
        parent = None
        for i in range(size):
            account = make_account(
                session,
                clock,
                tenant,
                **(
                    {"parent_id": parent.id, "billing_mode": "billed_to_parent"}
                    if parent is not None and i % 4
                    else {}
                ),
            )
            parent = account if i % 4 == 0 else parent
            make_subscription(
                session,
                clock,
                account,
                "numbers",
                quantity=Decimal(i + 1),
                start_date=date(2026, 1, 1),
            )
        sizes[size] = tenant
    clock.set(at(date(2026, 2, 1)))

    # when each is dry-run in one chunk
    counts = {
        size: _statements(session, lambda t=tenant: preview(session, clock, t, date(2026, 1, 31)))
        for size, tenant in sizes.items()
    }

    # then the number of statements does not grow with the accounts (no query per account)
    assert counts[5] == counts[20], counts


def test_a_subscription_with_a_corrupt_history_fails_its_account_alone(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given two accounts, one of whose subscriptions has a change no timeline allows (a
    # resume that follows no suspension, written behind the services' back)
    tenant = numbers_tenant(session, clock, "arrears")
    good = make_account(session, clock, tenant, name="Good")
    bad = make_account(session, clock, tenant, name="Bad")
    spec_orders(session, clock, tenant, good)
    broken = spec_orders(session, clock, tenant, bad)
    session.execute(
        insert(SubscriptionChange).values(
            id="sch_corrupt", tenant_id=tenant.id, subscription_id=broken, seq=99,
            kind="resume", effective=date(2026, 1, 20), timing="date", before={}, after={},
            actor="sql", reason=None, recorded_at=at(date(2025, 12, 21)),
        )
    )  # fmt: skip
    session.commit()

    # when January closes
    clock.set(at(date(2026, 2, 1)))
    summary = run(session_factory, clock, tenant, date(2026, 1, 31))

    # then the good account is billed, the bad one reported with its subscription and reason
    assert (summary.invoiced, summary.failed) == (1, 1)
    [item] = session.scalars(select(BillRunItem).where(BillRunItem.status == "failed")).all()
    assert item.account_id == bad.id
    assert item.error is not None
    assert broken in item.error


def test_an_account_whose_lines_the_database_refuses_fails_alone(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock, backend: str
) -> None:
    # given two accounts, one with a region longer than any address may have (written behind
    # the services' back), so its lines' jurisdiction does not fit the column
    tenant = numbers_tenant(session, clock, "arrears")
    good = make_account(session, clock, tenant, name="Good")
    bad = make_account(session, clock, tenant, name="Bad")
    spec_orders(session, clock, tenant, good)
    spec_orders(session, clock, tenant, bad)
    bad.service_address = {"country": "GB", "region": "R" * 150}
    session.commit()

    # when January closes (both accounts in one chunk, written by one COPY on PostgreSQL)
    clock.set(at(date(2026, 2, 1)))
    summary = run(session_factory, clock, tenant, date(2026, 1, 31))

    # then the good account is invoiced whatever happens to the other
    assert invoices_of(session, good.id)[0].total == Decimal("275.81")
    if backend == "sqlite":  # SQLite does not enforce a VARCHAR's length: both are billed
        assert (summary.invoiced, summary.failed) == (2, 0)
        return
    # PostgreSQL refuses the chunk's write; each payer is then written alone, and only the
    # bad one fails, with the database's reason
    assert (summary.invoiced, summary.failed, summary.status) == (1, 1, "completed")
    [item] = session.scalars(select(BillRunItem).where(BillRunItem.status == "failed")).all()
    assert item.account_id == bad.id
    assert "too long" in (item.error or "")


def test_subscriptions_of_one_shape_each_keep_their_ids_and_their_own_prices(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    """A chunk computes the lines of a subscription shape once (`DueLoader._billable`):
    each subscription still gets its own ids, and an account with its own price is not
    priced like the others."""
    # given three accounts with SPEC C4's orders, one with a customer price of 4.00
    tenant = numbers_tenant(session, clock, "arrears")
    accounts = [make_account(session, clock, tenant, external_id=n) for n in ("A", "B", "VIP")]
    subscriptions = [spec_orders(session, clock, tenant, account) for account in accounts]
    apply_catalog_yaml(session, clock, tenant, """\
effective_from: 2025-01-01
customer_prices:
  - {account: VIP, product: numbers, currency: USD, model: {type: per_unit, unit_price: 4.00}}
""")  # fmt: skip
    session.commit()

    # when January closes, the three in one chunk
    clock.set(at(date(2026, 2, 1)))
    run(session_factory, clock, tenant, date(2026, 1, 31))

    # then each invoice's lines name its own subscription and its own changes
    totals = []
    for account, subscription in zip(accounts, subscriptions, strict=True):
        [invoice] = invoices_of(session, account.id)
        lines = lines_of(session, invoice.id)
        changes = set(
            session.scalars(
                select(SubscriptionChange.id).where(
                    SubscriptionChange.subscription_id == subscription
                )
            )
        )
        assert {x.subscription_id for x in lines} == {subscription}
        assert all(x.line_key.startswith(f"sub:{subscription}:") for x in lines)
        assert {
            x.lineage["source"] for x in lines if x.lineage["source"].startswith("sch")
        } <= changes
        assert len({x.lineage["source"] for x in lines} & changes) == 2  # Jan 1 and Jan 16
        totals.append(invoice.subtotal)
    # and the customer price holds for its account only (SPEC's 275.81 at 5.00)
    assert totals[:2] == [Decimal("275.81"), Decimal("275.81")]
    assert totals[2] == Decimal("220.65")


def test_periods_before_the_look_back_horizon_are_not_billed(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    """A run's work per subscription does not grow with its age: periods that started more
    than `due.LOOKBACK` (400 days) before the close are left alone."""
    # given 10 numbers in arrears from Jan 1, 2025, never billed
    tenant = numbers_tenant(session, clock, "arrears")
    account = make_account(session, clock, tenant)
    make_subscription(
        session, clock, account, "numbers", quantity=Decimal(10), start_date=date(2025, 1, 1)
    )
    session.commit()

    # when January 2027 closes
    clock.set(at(date(2027, 2, 1)))
    run(session_factory, clock, tenant, date(2027, 1, 31))

    # then the 13 months from January 2026 are billed (Dec 2025 starts before Dec 27, 2025)
    [invoice] = invoices_of(session, account.id)
    lines = lines_of(session, invoice.id)
    assert [x.service_start for x in lines] == [date(2026, m, 1) for m in range(1, 13)] + [
        date(2027, 1, 1)
    ]
    assert invoice.subtotal == 13 * Decimal("50.00")


def test_a_month_after_the_first_settled_subscriptions_share_lines_and_a_changed_one_does_not(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    """After the first run, periods already invoiced are settled; subscriptions alike but
    for their ids share one computation of the next period (`DueLoader._billable`), and one
    whose change reaches back into a billed period is prorated again on its own."""
    # given four accounts of 50 numbers in advance from Jan 1, January billed in December
    tenant = numbers_tenant(session, clock, "advance")
    names = ("A", "B", "C", "D")
    accounts = [make_account(session, clock, tenant, external_id=n) for n in names]
    subscriptions = [
        make_subscription(
            session, clock, a, "numbers", quantity=Decimal(50), start_date=date(2026, 1, 1)
        ).subscription.id
        for a in accounts
    ]
    session.commit()
    clock.set(at(date(2026, 1, 1)))
    run(session_factory, clock, tenant, date(2025, 12, 31))

    # when C drops to 45 numbers from Jan 25 (B from Feb 1, after January), and January closes
    clock.set(at(date(2026, 1, 25)))
    for subscription, day in ((subscriptions[1], "2026-02-01"), (subscriptions[2], "2026-01-25")):
        change_subscription(
            session,
            clock=clock,
            scope=scope_of(session, tenant),
            subscription_id=subscription,
            data=ChangeCreate.model_validate(
                {"kind": "quantity", "quantity": 45, "effective": "date", "date": day,
                 "reason": "fewer lines"}
            ),
            actor=CLI_ACTOR,
        )  # fmt: skip
    session.commit()
    clock.set(at(date(2026, 2, 1)))
    run(session_factory, clock, tenant, date(2026, 1, 31))

    # then A and D are charged February's 50 and B February's 45, each on its own subscription
    def february(account: object) -> list[tuple[str | None, str, Decimal, Decimal]]:
        invoice = invoices_of(session, account.id)[-1]  # type: ignore[attr-defined]
        return [
            (x.subscription_id, x.kind, x.quantity, x.amount) for x in lines_of(session, invoice.id)
        ]

    a, b, c, d = subscriptions
    assert february(accounts[0]) == [(a, "recurring", Decimal(50), Decimal("250.00"))]
    assert february(accounts[3]) == [(d, "recurring", Decimal(50), Decimal("250.00"))]
    assert february(accounts[1]) == [(b, "recurring", Decimal(45), Decimal("225.00"))]
    # and C's January, changed after it was billed, is credited and recharged in two parts
    assert february(accounts[2]) == [
        (c, "recurring", Decimal(50), Decimal("193.55")),
        (c, "recurring", Decimal(45), Decimal("50.81")),
        (c, "recurring", Decimal(45), Decimal("225.00")),
        (c, "credit", Decimal(-50), Decimal("-250.00")),
    ]
