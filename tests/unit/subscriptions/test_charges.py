"""The charge engine: SPEC's table from a timeline, a change after `until` inside a period
charged in advance, and credits for an in-advance period invoiced before a change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billstream.catalog.price_models import EventSplit, EventTotals, Percentage, event_split
from billstream.core.money import Money
from billstream.core.periods import Cadence
from billstream.core.proration import ProratedLine
from billstream.subscriptions.charges import (
    ChargeLine,
    LineKind,
    SubscriptionFacts,
    billable_lines,
    currency_totals,
    period_totals,
    subscription_lines,
)
from billstream.subscriptions.lifecycle import ChangeKind
from billstream.subscriptions.timeline import Change
from tests.unit.subscriptions.fakes import FakeBook, charge, flat, per_unit, plan

JAN_1 = date(2026, 1, 1)
BEFORE = datetime(2025, 12, 1, tzinfo=UTC)
LATER = datetime(2026, 1, 15, 12, tzinfo=UTC)


def change(
    seq: int,
    kind: ChangeKind,
    day: date,
    *,
    at: datetime = BEFORE,
    quantity: str | None = None,
    plan_id: str | None = None,
) -> Change:
    amount = Decimal(quantity) if quantity is not None else None
    return Change(f"sch_{seq}", seq, kind, day, at, amount, plan_id)


def facts(*changes: Change, **terms: object) -> SubscriptionFacts:
    values: dict[str, object] = {"trial_end": None, "commitment_end": None}
    values.update(terms)
    return SubscriptionFacts(
        id="sub_1",
        currency="USD",
        start_date=changes[0].effective,
        billing_anchor=JAN_1,
        changes=changes,
        **values,  # type: ignore[arg-type]
    )


def spec_book() -> FakeBook:
    return FakeBook({"numbers": plan("numbers")}).price("numbers", "numbers", per_unit("5"))


SPEC = facts(
    change(1, ChangeKind.CREATE, JAN_1, quantity="50", plan_id="numbers"),
    change(2, ChangeKind.QUANTITY, date(2026, 1, 16), quantity="60"),
    change(3, ChangeKind.QUANTITY, date(2026, 2, 25), quantity="55"),
)


def test_the_spec_table_at_cents_and_at_four_places() -> None:
    # when SPEC's orders are previewed to Feb 28 at 2 and at 4 places
    cents = subscription_lines(SPEC, spec_book(), until=date(2026, 2, 28), places=2)
    four = subscription_lines(SPEC, spec_book(), until=date(2026, 2, 28), places=4)
    # then the lines and totals are SPEC's
    assert [(x.start, x.quantity, x.days, x.period_days, x.amount) for x in cents] == [
        (JAN_1, Decimal(50), 31, 31, Decimal("250.00")),
        (date(2026, 1, 16), Decimal(10), 16, 31, Decimal("25.81")),
        (date(2026, 2, 1), Decimal(60), 24, 28, Decimal("257.14")),
        (date(2026, 2, 25), Decimal(55), 4, 28, Decimal("39.29")),
    ]
    assert [x.amount for x in four] == [
        Decimal("250.0000"),
        Decimal("25.8065"),
        Decimal("257.1429"),
        Decimal("39.2857"),
    ]
    assert [t.amount.amount for t in period_totals(cents)] == [Decimal("275.81"), Decimal("296.43")]
    assert currency_totals(cents) == [Money.of("572.24", "USD")]
    assert [x.source for x in cents] == ["sch_1", "sch_2", "sch_2", "sch_3"]


def test_arrears_charges_only_periods_that_ended_by_until() -> None:
    # given a quarterly charge in arrears at 90.00 a quarter from Jan 1
    quarterly = charge("support", timing="arrears", cadence=Cadence.QUARTERLY)
    book = FakeBook({"care": plan("care", quarterly)}).price("care", "support", flat("90.00"))
    sub = facts(change(1, ChangeKind.CREATE, JAN_1, quantity="1", plan_id="care"))
    # when previewed to Mar 30, then to Mar 31
    early = subscription_lines(sub, book, until=date(2026, 3, 30), places=2)
    due = subscription_lines(sub, book, until=date(2026, 3, 31), places=2)
    # then the first quarter appears once it has ended
    assert early == []
    assert [(x.period.start, x.period.end, x.amount) for x in due] == [
        (JAN_1, date(2026, 4, 1), Decimal("90.00"))
    ]


def invoiced_then_billed(
    invoiced: Sequence[Change], now: Sequence[Change], *, until: date
) -> list[ChargeLine]:
    """The lines of `invoiced` changes (as an invoice holds them), then what a bill run
    charges once the changes are `now`: both from `billable_lines`."""
    first = subscription_lines(facts(*invoiced), spec_book(), until=until, places=2)
    charged: dict[tuple[str, date], list[ProratedLine]] = {}
    for x in first:
        line = ProratedLine(
            x.start, x.end, x.quantity, x.unit_price, x.days, x.period_days, x.fraction,
            x.amount, x.source,
        )  # fmt: skip
        charged.setdefault((x.charge, x.period.start), []).append(line)
    again = billable_lines(facts(*now), spec_book(), until=until, places=2, charged=charged)
    return first + again


def test_a_change_recorded_after_the_period_was_invoiced_credits_and_recharges() -> None:
    # given 10 numbers invoiced for January, then on Jan 15 cut to 4 from Jan 16
    ordered = change(1, ChangeKind.CREATE, JAN_1, quantity="10", plan_id="numbers")
    cut = change(2, ChangeKind.QUANTITY, date(2026, 1, 16), at=LATER, quantity="4")
    # when billed again
    lines = invoiced_then_billed([ordered], [ordered, cut], until=date(2026, 1, 31))
    # then the invoiced line is credited, and the new shape charged
    assert [(x.kind, x.start, x.end, x.quantity, x.amount) for x in lines] == [
        (LineKind.RECURRING, JAN_1, date(2026, 2, 1), Decimal(10), Decimal("50.00")),
        (LineKind.CREDIT, JAN_1, date(2026, 2, 1), Decimal(-10), Decimal("-50.00")),
        (LineKind.RECURRING, JAN_1, date(2026, 1, 16), Decimal(10), Decimal("24.19")),
        (LineKind.RECURRING, date(2026, 1, 16), date(2026, 2, 1), Decimal(4), Decimal("10.32")),
    ]


@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.integers(0, 40), st.booleans()), min_size=1, max_size=5
    )
)
def test_credits_never_exceed_what_was_charged_for_the_period(
    moves: list[tuple[int, int, bool]],
) -> None:
    # given January charged in advance, then changes recorded later (quantities or a cancel)
    changes = [change(1, ChangeKind.CREATE, JAN_1, quantity="20", plan_id="numbers")]
    cancelled = False
    for seq, (day, quantity, cancel) in enumerate(sorted(moves), start=2):
        effective = JAN_1 + timedelta(days=day)
        if cancelled or any(c.effective > effective for c in changes):
            continue
        kind = ChangeKind.CANCEL if cancel else ChangeKind.QUANTITY
        changes.append(
            change(seq, kind, effective, at=LATER, quantity=None if cancel else str(quantity))
        )
        cancelled = cancel
    lines = invoiced_then_billed(changes[:1], changes, until=date(2026, 1, 31))
    credits = sum((-x.amount for x in lines if x.kind == LineKind.CREDIT), Decimal(0))
    # then January's first line is the 100.00 charged on Jan 1, the credits never exceed
    # it, and the period never nets below zero
    assert (lines[0].kind, lines[0].amount) == (LineKind.RECURRING, Decimal("100.00"))
    assert credits <= Decimal("100.00")
    assert sum((x.amount for x in lines), Decimal(0)) >= 0


def test_a_cancellation_after_until_ends_the_in_advance_period_it_falls_in() -> None:
    # given 10 numbers from Jan 1, charged in advance, cancelled from Feb 3
    sub = facts(
        change(1, ChangeKind.CREATE, JAN_1, quantity="10", plan_id="numbers"),
        change(2, ChangeKind.CANCEL, date(2026, 2, 3)),
    )
    # when previewed until Feb 1 (February's start: its charge is due, its cancel is later)
    lines = subscription_lines(sub, spec_book(), until=date(2026, 2, 1), places=2)
    # then February is charged for Feb 1-2 only, as the bill run closing Jan 31 charges it
    assert [(x.start, x.end, x.quantity, x.amount) for x in lines] == [
        (JAN_1, date(2026, 2, 1), Decimal(10), Decimal("50.00")),
        (date(2026, 2, 1), date(2026, 2, 3), Decimal(10), Decimal("3.57")),
    ]


def test_a_percentage_charge_is_its_percent_of_the_named_charges_each_period() -> None:
    # given SPEC's numbers and a care charge of 10% of them, with a 5.00 minimum
    care = Percentage(percent=Decimal(10), of="numbers", minimum=Decimal(5))
    book = (
        FakeBook({"numbers": plan("numbers", charge("numbers"), charge("care"))})
        .price("numbers", "numbers", per_unit("5"))
        .price("numbers", "care", care)
    )
    # when previewed to Feb 28
    lines = subscription_lines(SPEC, book, until=date(2026, 2, 28), places=2)
    # then each month's care line is 10% of its rounded numbers lines: 27.58, then 29.64
    cares = [(x.period.start, x.start, x.end, x.amount) for x in lines if x.charge == "care"]
    assert cares == [
        (JAN_1, JAN_1, date(2026, 2, 1), Decimal("27.58")),  # 10% of 275.81
        (date(2026, 2, 1), date(2026, 2, 1), date(2026, 3, 1), Decimal("29.64")),  # of 296.43
    ]


def test_a_percentage_charge_follows_a_cancellation_and_its_minimum() -> None:
    # given 2 numbers with care at 10% (minimum 5.00), cancelled from Jan 11
    care = Percentage(percent=Decimal(10), of=["numbers"], minimum=Decimal(5))
    book = (
        FakeBook({"numbers": plan("numbers", charge("numbers"), charge("care"))})
        .price("numbers", "numbers", per_unit("5"))
        .price("numbers", "care", care)
    )
    sub = facts(
        change(1, ChangeKind.CREATE, JAN_1, quantity="2", plan_id="numbers"),
        change(2, ChangeKind.CANCEL, date(2026, 1, 11)),
    )
    # when previewed to March
    lines = subscription_lines(sub, book, until=date(2026, 3, 31), places=2)
    # then January's care is the 5.00 minimum on 3.23 of numbers, and nothing after
    assert [(x.charge, x.start, x.end, x.amount) for x in lines] == [
        ("numbers", JAN_1, date(2026, 1, 11), Decimal("3.23")),
        ("care", JAN_1, date(2026, 1, 11), Decimal("5.00")),
    ]


def test_a_percentage_of_usage_or_events_takes_the_rating_periods_starting_in_its_period() -> None:
    # given 2 numbers and, billed in arrears, a 5% surcharge on usage (at least 1.00) and a
    # fee of 10% of each event + 0.01, at most 0.05 an event
    surcharge = Percentage(percent=Decimal(5), of="usage", minimum=Decimal(1))
    card = Percentage(percent=Decimal(10), of="events", fee_per_event=Decimal("0.01"),
                      maximum_per_event=Decimal("0.05"))  # fmt: skip
    terms = plan(
        "numbers",
        charge("numbers"),
        charge("surcharge", timing="arrears"),
        charge("card", timing="arrears"),
    )
    book = (
        FakeBook({"numbers": terms})
        .price("numbers", "numbers", per_unit("5"))
        .price("numbers", "surcharge", surcharge)
        .price("numbers", "card", card)
    )
    sub = facts(change(1, ChangeKind.CREATE, JAN_1, quantity="2", plan_id="numbers"))
    # and usage rated for January (40.00 in two rating periods) and for March
    usage = {
        JAN_1: Decimal("30.5"),
        date(2026, 1, 16): Decimal("9.5"),
        date(2026, 3, 1): Decimal(7),
    }
    # January: 0.10 -> 0.02, 2.00 -> 0.21 -> 0.05, and 0.20 -> 0.03
    split = event_split(card)
    january = EventTotals(above=1, between=2, between_micros=300_000)

    def events(asked: EventSplit) -> dict[date, EventTotals]:
        assert asked == split
        return {JAN_1: january}

    # when previewed to Feb 28
    lines = billable_lines(
        sub, book, until=date(2026, 2, 28), places=2, charged={}, usage=usage, events=events
    )
    # then January has 5% of 40.00 and the events' 0.10; February, with nothing rated, no
    # line (not even the minimum); March is not due yet
    owed = [
        (x.charge, x.period.start, x.amount, x.on_usage) for x in lines if x.charge != "numbers"
    ]
    assert sorted(owed) == [
        ("card", JAN_1, Decimal("0.10"), True),
        ("surcharge", JAN_1, Decimal("2.00"), True),
    ]
