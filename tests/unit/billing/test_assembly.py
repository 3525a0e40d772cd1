"""The pure core of billing: invoice assembly, usage by difference, taxes, closing days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billstream.billing.assembly import Charge, UsageAggregate, assemble_invoice, usage_charges
from billstream.billing.closing import closing_period
from billstream.billing.taxes import PercentageByJurisdiction, TaxRule
from billstream.core.money import Money
from billstream.rating.allowances import Tier
from billstream.subscriptions.charges import LineKind

JAN = date(2026, 1, 1)
RULES = PercentageByJurisdiction(
    [
        TaxRule("fed", "US", "Federal", Decimal("1"), date(2020, 1, 1), None),
        TaxRule("ca", "US-CA", "California", Decimal("7.25"), date(2020, 1, 1), None),
        TaxRule("old", "GB", "VAT", Decimal("17.5"), date(2020, 1, 1), date(2026, 1, 1)),
        TaxRule("vat", "GB", "VAT", Decimal("20"), date(2026, 1, 1), None),
    ]
)


def charge(source: str, amount: str, key: str, kind: LineKind = LineKind.RECURRING) -> Charge:
    return Charge(
        source_account_id=source,
        kind=kind,
        description=f"line {key}",
        line_key=key,
        quantity=Decimal(1),
        unit_price=Decimal(amount),
        amount=Money.of(amount, "USD"),
        service_start=JAN,
    )


def test_lines_group_by_sub_account_in_tree_order_and_taxes_by_jurisdiction() -> None:
    draft = assemble_invoice(
        account_id="abc",
        currency="USD",
        period_start=JAN,
        period_end=date(2026, 2, 1),
        charges=[
            charge("hr", "10.00", "k1"),
            charge("abc", "20.00", "k2"),
            charge("hr", "5.55", "k3"),
        ],
        source_order=["abc", "sales", "hr"],
        jurisdictions={"abc": "US-CA", "hr": "GB"},
        calculator=RULES,
        on=date(2026, 1, 31),
        places=2,
    )
    assert [(source, [x.charge.line_key for x in lines]) for source, lines in draft.sections()] == [
        ("abc", ["k2"]),
        ("hr", ["k1", "k3"]),
    ]
    assert [(t.jurisdiction, t.name, t.amount) for t in draft.taxes] == [
        ("GB", "VAT", Decimal("3.11")),  # 20 % of 15.55 = 3.11
        ("US-CA", "Federal", Decimal("0.20")),
        ("US-CA", "California", Decimal("1.45")),
    ]
    assert draft.total == Money(Decimal("35.55") + Decimal("4.76"), "USD")


amounts = st.decimals(min_value=Decimal("-500"), max_value=Decimal("5000"), places=2)


@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), amounts), min_size=1, max_size=30),
    st.sampled_from([None, "US", "US-CA", "GB"]),
)
def test_the_total_is_always_the_sum_of_rounded_lines_plus_taxes(
    items: list[tuple[str, Decimal]], jurisdiction: str | None
) -> None:
    draft = assemble_invoice(
        account_id="a",
        currency="USD",
        period_start=JAN,
        period_end=date(2026, 2, 1),
        charges=[charge(s, str(a), f"k{i}") for i, (s, a) in enumerate(items)],
        source_order=["a", "b", "c"],
        jurisdictions={"a": jurisdiction, "b": "GB", "c": None},
        calculator=RULES,
        on=date(2026, 6, 1),
        places=2,
    )
    assert draft.subtotal.amount == sum(Decimal(a) for _, a in items)
    assert draft.total.amount == sum(x.charge.amount.amount for x in draft.lines) + sum(
        t.amount for t in draft.taxes
    )
    assert sorted(x.position for x in draft.lines) == list(range(1, len(items) + 1))
    for tax in draft.taxes:  # each tax rounded once, half-up, on its jurisdiction's total
        assert abs(tax.amount - tax.taxable * tax.rate / 100) <= Decimal("0.005")


def aggregate(micros: int, *, invoiced: str = "0", revisions: int = 0) -> UsageAggregate:
    return UsageAggregate(
        source_account_id="a",
        period_start=JAN,
        period_end=date(2026, 2, 1),
        usage_type="voice",
        destination="UK mobile",
        records=3,
        quantity=600,
        billed=1200,
        allowance=300,
        amount_micros=micros,
        run_ids=("r1",),
        invoiced=Decimal(invoiced),
        revisions=revisions,
    )


def test_usage_is_billed_once_then_only_by_its_difference() -> None:
    [first] = usage_charges(
        [aggregate(1_235_000)],
        currency="USD",
        places=2,
        tiers={"voice": [Tier(0, 60_000), Tier(900, 30_000)]},
    )
    assert (first.kind, first.amount, first.line_key) == (
        LineKind.USAGE,
        Money.of("1.24", "USD"),  # 1.235 rounded half-up, a tie goes up
        "usage:a:2026-01-01:voice:UK mobile:0",
    )
    assert first.lineage["tiers"] == [
        {"from": 0, "to": 900, "rate_micros": 60_000, "rate": "0.06", "quantity": 900,
         "amount": "0.90"},  # 15 minutes at 0.06
        {"from": 900, "to": None, "rate_micros": 30_000, "rate": "0.03", "quantity": 600,
         "amount": "0.30"},  # 10 minutes at 0.03
    ]  # fmt: skip
    assert first.lineage["unit"] == "second"
    rerated = aggregate(1_235_000, invoiced="1.24", revisions=1)
    assert usage_charges([rerated], currency="USD", places=2) == []
    [fix] = usage_charges(
        [aggregate(2_000_000, invoiced="1.24", revisions=1)], currency="USD", places=2
    )
    assert (fix.kind, fix.amount, fix.line_key) == (
        LineKind.USAGE_CORRECTION,
        Money.of("0.76", "USD"),
        "usage:a:2026-01-01:voice:UK mobile:1",
    )


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(1, 31))
def test_an_anniversary_cycle_closes_once_a_month_and_its_periods_tile(
    day: date, billing_day: int
) -> None:
    period = closing_period("anniversary", billing_day, day)
    if period is None:
        return
    assert period.last_day == day
    # the next period closing is the one starting the day after, and nothing closes between
    following = [
        d
        for d in (day + timedelta(n) for n in range(1, 32))
        if closing_period("anniversary", billing_day, d)
    ]
    assert following
    assert closing_period("anniversary", billing_day, following[0]).start == day + timedelta(1)  # type: ignore[union-attr]


def test_calendar_accounts_close_on_the_last_day_of_each_month() -> None:
    closes = [
        d for d in (JAN + timedelta(n) for n in range(365)) if closing_period("calendar", 1, d)
    ]
    assert [d.isoformat() for d in closes[:3]] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    assert len(closes) == 12
