"""Invoices on both databases: SPEC C2's hierarchy, usage lines and re-rating corrections,
taxes by jurisdiction, immutability enforced by the database, credit notes, void, payments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from billstream.accounts.models import Account
from billstream.billing.models import Invoice, InvoicedUsageRun, InvoiceLine, InvoiceTax
from billstream.billing.service import (
    CreditRequest,
    create_credit_note,
    invoice_taxes,
    line_records,
    record_payment,
    set_tax_rate,
    void_invoice,
)
from billstream.core.clock import FakeClock
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.documents.service import invoice_document
from billstream.rating.models import RatedUsage
from billstream.rating.service import RatingRequest, rate_period
from billstream.tenants.models import Tenant
from tests.factories import (
    apply_catalog_yaml,
    context_of,
    make_account,
    make_subscription,
    make_tenant,
    scope_of,
)
from tests.integration.billing.helpers import at, invoices_of, lines_of, numbers_catalog, run
from tests.integration.rating.test_rating_service import RETAIL, add_calls, import_card

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
CLOSE = date(2026, 1, 31)


def org_abc(session: Session, clock: FakeClock, tenant: Tenant) -> dict[str, Account]:
    """SPEC C2: ABC → Sales, Support, HR; Support → Tier1, Tier2. ABC and Support pay."""
    abc = make_account(session, clock, tenant, name="Org ABC")
    out = {"ABC": abc}
    for name in ("Sales", "HR"):
        out[name] = make_account(
            session, clock, tenant, name=name, parent_id=abc.id, billing_mode="billed_to_parent"
        )
    out["Support"] = make_account(session, clock, tenant, name="Support", parent_id=abc.id)
    for name in ("Tier1", "Tier2"):
        out[name] = make_account(
            session,
            clock,
            tenant,
            name=name,
            parent_id=out["Support"].id,
            billing_mode="billed_to_parent",
        )
    return out


@pytest.fixture
def billed_tree(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> tuple[Tenant, dict[str, Account]]:
    """Org ABC with one subscription per account (10 + i numbers), January billed."""
    clock.set(at(date(2025, 12, 20)))
    tenant = make_tenant(session, clock)
    apply_catalog_yaml(session, clock, tenant, numbers_catalog("arrears"))
    tree = org_abc(session, clock, tenant)
    for i, account in enumerate(tree.values()):
        make_subscription(
            session, clock, account, "numbers", quantity=Decimal(10 + i), start_date=JAN
        )
    session.commit()
    clock.set(at(FEB))
    run(session_factory, clock, tenant, CLOSE)
    return tenant, tree


def test_spec_hierarchy_each_payer_carries_its_tree_grouped_by_sub_account(
    session: Session, billed_tree: tuple[Tenant, dict[str, Account]]
) -> None:
    _tenant, tree = billed_tree
    names = {a.id: name for name, a in tree.items()}

    [abc] = invoices_of(session, tree["ABC"].id)
    [support] = invoices_of(session, tree["Support"].id)

    assert [names[x.source_account_id] for x in lines_of(session, abc.id)] == ["ABC", "HR", "Sales"]
    assert [names[x.source_account_id] for x in lines_of(session, support.id)] == [
        "Support",
        "Tier1",
        "Tier2",
    ]
    for name in ("Sales", "HR", "Tier1", "Tier2"):
        assert invoices_of(session, tree[name].id) == []
    # ABC 10, Sales 11, HR 12 numbers at $5: 165.00; Support 13, Tier1 14, Tier2 15: 210.00
    assert (abc.total, support.total) == (Decimal("165.00"), Decimal("210.00"))


def _this(line: InvoiceLine) -> tuple[Any, ...]:
    """The condition naming `line` (its invoice and position)."""
    return (InvoiceLine.invoice_id == line.invoice_id, InvoiceLine.position == line.position)


def test_an_issued_invoice_cannot_change_through_the_orm_or_sql(
    session: Session, billed_tree: tuple[Tenant, dict[str, Account]]
) -> None:
    _tenant, tree = billed_tree
    [invoice] = invoices_of(session, tree["ABC"].id)
    [line, *_] = lines_of(session, invoice.id)
    attempts = [
        update(Invoice).where(Invoice.id == invoice.id).values(total=Decimal("1.00")),
        update(Invoice).where(Invoice.id == invoice.id).values(number="INV-HACKED"),
        update(Invoice).where(Invoice.id == invoice.id).values(status="draft"),
        delete(Invoice).where(Invoice.id == invoice.id),
        update(InvoiceLine).where(*_this(line)).values(amount=Decimal(0)),
        delete(InvoiceLine).where(*_this(line)),
        insert(InvoiceTax).values(
            tenant_id=invoice.tenant_id, invoice_id=invoice.id, position=9,
            jurisdiction="GB", name="VAT", rate=Decimal(20), taxable=Decimal(0),
            amount=Decimal(0), rule_id=None,
        ),
        text("UPDATE invoices SET subtotal = 0 WHERE id = :id").bindparams(id=invoice.id),
    ]  # fmt: skip
    for attempt in attempts:
        with pytest.raises(DBAPIError, match="issued invoice is immutable"), session.begin_nested():
            session.execute(attempt)
    # through the ORM too: a changed attribute fails at flush
    invoice.total = Decimal("1.00")
    with pytest.raises(DBAPIError, match="issued invoice is immutable"), session.begin_nested():
        session.flush()
    session.rollback()
    [again] = invoices_of(session, tree["ABC"].id)
    assert (again.total, again.status) == (Decimal("165.00"), "issued")


def test_lines_and_taxes_reference_an_invoice_of_their_tenant_and_an_account(
    session: Session, clock: FakeClock, billed_tree: tuple[Tenant, dict[str, Account]]
) -> None:
    """No foreign keys on lines and taxes (migration 0014): the triggers hold the same."""
    tenant, tree = billed_tree
    other = make_tenant(session, clock)
    [invoice] = invoices_of(session, tree["ABC"].id)
    draft = Invoice(
        id="inv_draft", tenant_id=tenant.id, account_id=tree["ABC"].id, kind="invoice",
        status="draft", currency="USD", period_start=JAN, period_end=FEB, issue_date=None,
        due_date=None, subtotal=Decimal(0), tax_total=Decimal(0), total=Decimal(0),
        amount_paid=Decimal(0), created_at=clock.now(), updated_at=clock.now(),
    )  # fmt: skip
    session.add(draft)
    session.flush()

    def line(invoice_id: str, tenant_id: str, source: str) -> object:
        return insert(InvoiceLine).values(
            tenant_id=tenant_id, invoice_id=invoice_id, position=1,
            line_key=f"k:{invoice_id}", source_account_id=source, kind="one_time",
            description="x", quantity=Decimal(1), amount=Decimal(1), lineage={},
        )  # fmt: skip

    refused = [
        line("inv_nowhere", tenant.id, tree["ABC"].id),  # no such invoice
        line(draft.id, other.id, tree["ABC"].id),  # the invoice is another tenant's
        line(draft.id, tenant.id, "acc_nowhere"),  # no such account
        insert(InvoiceTax).values(
            tenant_id=tenant.id, invoice_id="inv_nowhere", position=1,
            jurisdiction="GB", name="VAT", rate=Decimal(20), taxable=Decimal(0),
            amount=Decimal(0),
        ),
    ]  # fmt: skip
    for attempt in refused:
        with pytest.raises(DBAPIError, match="no such invoice"), session.begin_nested():
            session.execute(attempt)  # type: ignore[call-overload]
    # a draft's line is accepted; then the draft cannot be deleted, nor the line moved
    session.execute(line(draft.id, tenant.id, tree["Sales"].id))  # type: ignore[call-overload]
    for attempt in [
        delete(Invoice).where(Invoice.id == draft.id),
        update(InvoiceLine).where(InvoiceLine.invoice_id == draft.id).values(invoice_id=invoice.id),
    ]:
        with pytest.raises(DBAPIError, match=r"has lines|never move"), session.begin_nested():
            session.execute(attempt)
    # an account that is the source of lines cannot be deleted, even once nothing else
    # (its subscriptions) holds it
    sales = tree["Sales"].id
    session.execute(
        text("DELETE FROM subscription_changes WHERE subscription_id IN "
             "(SELECT id FROM subscriptions WHERE account_id = :a)").bindparams(a=sales)
    )  # fmt: skip
    session.execute(text("DELETE FROM subscriptions WHERE account_id = :a").bindparams(a=sales))
    with pytest.raises(DBAPIError, match="invoice lines"), session.begin_nested():
        session.execute(delete(Account).where(Account.id == sales))


def test_payments_move_the_status_and_void_needs_an_unpaid_invoice(
    session: Session, clock: FakeClock, billed_tree: tuple[Tenant, dict[str, Account]]
) -> None:
    tenant, tree = billed_tree
    scope = scope_of(session, tenant)
    [abc] = invoices_of(session, tree["ABC"].id)
    [support] = invoices_of(session, tree["Support"].id)

    record_payment(session, clock, scope=scope, invoice_id=abc.id, amount=Decimal("100.00"))
    assert abc.status == "partially_paid"
    with pytest.raises(InvalidInputError):
        record_payment(session, clock, scope=scope, invoice_id=abc.id, amount=Decimal("65.01"))
    record_payment(session, clock, scope=scope, invoice_id=abc.id, amount=Decimal("65.00"))
    assert (abc.status, abc.amount_paid) == ("paid", Decimal("165.00"))
    with pytest.raises(ConflictError):
        void_invoice(session, clock, scope=scope, invoice_id=abc.id, reason="mistake")

    void_invoice(session, clock, scope=scope, invoice_id=support.number or "", reason="mistake")
    session.flush()
    assert support.status == "void"
    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(update(Invoice).where(Invoice.id == support.id).values(status="issued"))


def test_a_credit_note_corrects_an_issued_invoice_and_never_credits_more_than_it_had(
    session: Session, clock: FakeClock, billed_tree: tuple[Tenant, dict[str, Account]]
) -> None:
    tenant, tree = billed_tree
    scope = scope_of(session, tenant)
    [abc] = invoices_of(session, tree["ABC"].id)
    [first, second, _third] = lines_of(session, abc.id)

    note = create_credit_note(
        session,
        clock,
        scope=scope,
        invoice_id=abc.id,
        lines=[CreditRequest(first.position, Decimal("20.00"))],
        reason="two numbers were not working",
        on=FEB,
    )
    assert (note.kind, note.corrects_id, note.total) == ("credit_note", abc.id, Decimal("-20.00"))
    assert note.number == "INV-2026-000003"  # the same gapless series
    with pytest.raises(InvalidInputError) as too_much:
        create_credit_note(
            session,
            clock,
            scope=scope,
            invoice_id=abc.id,
            lines=[CreditRequest(first.position, Decimal("30.01"))],
            reason="again",
            on=FEB,
        )
    assert too_much.value.field == "lines[0].amount"
    rest = create_credit_note(
        session, clock, scope=scope, invoice_id=abc.id, lines=None, reason="cancel", on=FEB
    )
    assert rest.total == Decimal("-145.00")  # 30.00 left of the first line, then 55 and 60
    assert second.amount == Decimal("55.00") or second.amount == Decimal("60.00")
    [abc_again] = invoices_of(session, tree["ABC"].id)[:1]
    assert abc_again.total == Decimal("165.00")  # the invoice itself is unchanged


def _rerate_january(
    session: Session, clock: FakeClock, tenant: Tenant, card: list[dict[str, str]]
) -> None:
    """A new retail card from Jan 5, January re-rated by it (a new rating run), committed."""
    import_card(session, clock, tenant, card, effective_from=date(2026, 1, 5))
    rate_period(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        request=RatingRequest(tenant.id, start=JAN, end=FEB, rerate=True),
    )
    session.commit()


def test_usage_lines_per_destination_and_a_rerating_bills_only_the_difference(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given January's calls rated at retail, and an account paying for a department
    clock.set(at(date(2026, 1, 5)))
    tenant = make_tenant(session, clock)
    payer = make_account(session, clock, tenant, name="Payer")
    dept = make_account(
        session, clock, tenant, name="Dept", parent_id=payer.id, billing_mode="billed_to_parent"
    )
    day = datetime(2026, 1, 10, 12, tzinfo=UTC)
    add_calls(session, tenant, payer, ("a", day, 61, "+442071234567"))  # UK 0.12
    add_calls(
        session,
        tenant,
        dept,
        ("b", day + timedelta(hours=1), 30, "+447700900123"),  # UK mobile 0.13
        ("c", day + timedelta(hours=2), 90, "+447700900124"),  # UK mobile 0.01 + 0.24
    )
    import_card(session, clock, tenant, RETAIL)
    scope = scope_of(session, tenant)
    rate_period(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        request=RatingRequest(tenant.id, start=JAN, end=FEB),
    )
    session.commit()

    # when January closes
    clock.set(at(FEB))
    run(session_factory, clock, tenant, CLOSE)

    # then one usage line per sub-account and destination, with its records and seconds
    [invoice] = invoices_of(session, payer.id)
    lines = [
        (x.kind, x.destination, x.amount, x.lineage["records"])
        for x in lines_of(session, invoice.id)
    ]
    assert lines == [
        ("usage", "UK", Decimal("0.12"), 1),
        ("usage", "UK mobile", Decimal("0.38"), 2),
    ]
    assert invoice.total == Decimal("0.50")
    # and the document's usage summary shows each sub-account's calls in minutes
    document = invoice_document(session, scope=scope, invoice_id=invoice.id)
    assert [
        [(u.destination, u.records, u.billed_minutes) for u in section.usage]
        for section in document.sections
    ] == [[("UK", "1", "2")], [("UK mobile", "2", "3")]]
    # and the mobile line opens on its two records, each with its rate and billed seconds
    records = line_records(session, scope=scope, invoice_id=invoice.id, position=2).items
    assert sorted(
        (r.record_key, r.matched_prefix, r.billed_s, r.amount_micros) for r in records
    ) == [
        ("b", "447", 60, 130_000),
        ("c", "447", 120, 250_000),
    ]

    # when the UK mobile rate doubles, January is re-rated, and a later run closes
    _rerate_january(session, clock, tenant, [RETAIL[0], {**RETAIL[1], "rate": "0.24"}])
    clock.set(at(date(2026, 3, 1)))
    run(session_factory, clock, tenant, date(2026, 2, 28))
    again = run(session_factory, clock, tenant, date(2026, 2, 28), all_accounts=True)

    # then February's invoice carries only January's difference, once
    [_, february] = invoices_of(session, payer.id)
    assert [(x.kind, x.destination, x.amount) for x in lines_of(session, february.id)] == [
        ("usage_correction", "UK mobile", Decimal("0.36")),  # 0.25 + 0.49 - 0.38
    ]
    assert again.invoiced == 0


def test_a_settled_rating_period_is_not_summed_again_until_a_rerating(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    """Once a run has invoiced an account's rating period, later runs do not read its
    records again (`due.UsageRuns`); re-rating it (a new rating run) makes them read it."""
    # given January's calls rated and invoiced at January's close
    clock.set(at(date(2026, 1, 5)))
    tenant = make_tenant(session, clock)
    payer = make_account(session, clock, tenant, name="Payer")
    day = datetime(2026, 1, 10, 12, tzinfo=UTC)
    add_calls(session, tenant, payer, ("a", day, 61, "+442071234567"))  # UK 0.12
    import_card(session, clock, tenant, RETAIL)
    ctx = context_of(session, tenant)
    request = RatingRequest(tenant.id, start=JAN, end=FEB)
    rate_period(session, clock=clock, ctx=ctx, request=request)
    session.commit()
    clock.set(at(FEB))
    run(session_factory, clock, tenant, CLOSE)
    [january] = invoices_of(session, payer.id)
    settled = session.execute(
        select(InvoicedUsageRun.account_id, InvoicedUsageRun.invoice_id)
    ).all()
    assert settled == [(payer.id, january.id)]

    # when the stored records change behind the rating's back, and February closes
    session.execute(
        update(RatedUsage)
        .where(RatedUsage.account_id == payer.id)
        .values(amount_micros=RatedUsage.amount_micros + 1_000_000)
    )
    session.commit()
    clock.set(at(date(2026, 3, 1)))
    february = run(session_factory, clock, tenant, date(2026, 2, 28))

    # then January is not read again: nothing is due
    assert (february.invoiced, february.nothing_due) == (0, 1)

    # when the UK rate doubles, January is re-rated (a new rating run), and a run of
    # another key closes February
    _rerate_january(session, clock, tenant, [{**RETAIL[0], "rate": "0.12"}, RETAIL[1]])
    again = run(session_factory, clock, tenant, date(2026, 2, 28), all_accounts=True)

    # then the re-rated January is read: its difference is invoiced (0.24 - 0.12, not the
    # records changed behind the rating's back), and both of its runs are settled
    assert (again.invoiced, again.nothing_due) == (1, 0)
    correction = invoices_of(session, payer.id)[-1]
    assert [(x.kind, x.amount) for x in lines_of(session, correction.id)] == [
        ("usage_correction", Decimal("0.12"))
    ]
    assert len(session.scalars(select(InvoicedUsageRun.run_id)).all()) == 2


def test_taxes_by_the_service_address_of_each_sub_account(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    clock.set(at(date(2025, 12, 20)))
    tenant = make_tenant(session, clock)
    ctx = context_of(session, tenant)
    apply_catalog_yaml(session, clock, tenant, numbers_catalog("arrears"))
    for jurisdiction, name, rate in (("US", "Federal", "1"), ("US-CA", "California", "7.25")):
        set_tax_rate(
            session, clock, ctx=ctx, jurisdiction=jurisdiction,
            name=name, rate=Decimal(rate), effective_from=date(2025, 1, 1),
        )  # fmt: skip
    payer = make_account(
        session, clock, tenant, name="HQ", service_address={"country": "US", "region": "CA"}
    )
    branch = make_account(
        session, clock, tenant, name="Branch", parent_id=payer.id,
        billing_mode="billed_to_parent", service_address={"country": "US", "region": "NY"},
    )  # fmt: skip
    make_subscription(session, clock, payer, "numbers", quantity=Decimal(3), start_date=JAN)
    make_subscription(session, clock, branch, "numbers", quantity=Decimal(7), start_date=JAN)
    session.commit()
    clock.set(at(FEB))
    run(session_factory, clock, tenant, CLOSE)

    [invoice] = invoices_of(session, payer.id)
    taxes = [
        (t.jurisdiction, t.name, t.taxable, t.amount) for t in invoice_taxes(session, invoice.id)
    ]
    assert taxes == [
        ("US-CA", "Federal", Decimal("15.00"), Decimal("0.15")),
        ("US-CA", "California", Decimal("15.00"), Decimal("1.09")),  # 1.0875
        ("US-NY", "Federal", Decimal("35.00"), Decimal("0.35")),
    ]
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("50.00"),
        Decimal("1.59"),
        Decimal("51.59"),
    )


def test_a_region_written_out_is_the_jurisdiction_and_its_country_taxes_it(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given a GB VAT rule and an account whose address spells its region out (17 characters
    # as a jurisdiction: PostgreSQL refused the whole run when the column held 16)
    clock.set(at(date(2025, 12, 20)))
    tenant = make_tenant(session, clock)
    apply_catalog_yaml(session, clock, tenant, numbers_catalog("arrears"))
    set_tax_rate(
        session, clock, ctx=context_of(session, tenant), jurisdiction="GB",
        name="VAT", rate=Decimal(20), effective_from=date(2025, 1, 1),
    )  # fmt: skip
    payer = make_account(
        session, clock, tenant, name="Leeds",
        service_address={"country": "GB", "region": "West Yorkshire"},
    )  # fmt: skip
    make_subscription(session, clock, payer, "numbers", quantity=Decimal(3), start_date=JAN)
    session.commit()

    # when January is billed
    clock.set(at(FEB))
    run(session_factory, clock, tenant, CLOSE)

    # then the line keeps the region as written, and the country's rule taxes it
    [invoice] = invoices_of(session, payer.id)
    assert {x.tax_jurisdiction for x in lines_of(session, invoice.id)} == {"GB-WEST YORKSHIRE"}
    taxes = [(t.jurisdiction, t.name, t.amount) for t in invoice_taxes(session, invoice.id)]
    assert taxes == [("GB-WEST YORKSHIRE", "VAT", Decimal("3.00"))]


def test_a_brand_is_taxed_at_its_parents_rate_until_its_own_rate_is_in_force(
    session: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given GB VAT at 20 % set by the parent company, and at 5 % by its brand from March
    clock.set(at(date(2025, 12, 20)))
    parent = make_tenant(session, clock)
    brand = make_tenant(session, clock, parent=parent)
    apply_catalog_yaml(session, clock, brand, numbers_catalog("arrears"))
    for owner, rate, starts in ((parent, 20, date(2025, 1, 1)), (brand, 5, date(2026, 3, 1))):
        set_tax_rate(
            session, clock, ctx=context_of(session, owner), jurisdiction="GB", name="VAT",
            rate=Decimal(rate), effective_from=starts,
        )  # fmt: skip
    payer = make_account(session, clock, brand, name="Leeds", service_address={"country": "GB"})
    make_subscription(session, clock, payer, "numbers", quantity=Decimal(3), start_date=JAN)
    session.commit()

    # when January is billed, before the brand's own rate is in force
    clock.set(at(FEB))
    run(session_factory, clock, brand, CLOSE)

    # then the parent's rate, the nearest in force on the tax date, taxes it
    [invoice] = invoices_of(session, payer.id)
    taxes = [(t.jurisdiction, t.name, t.rate, t.amount) for t in invoice_taxes(session, invoice.id)]
    assert taxes == [("GB", "VAT", Decimal("20"), Decimal("3.00"))]
