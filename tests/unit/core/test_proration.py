"""Proration by day: SPEC C4's table, the tranche rule, calendar edges, credits, invariants."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.core.errors import InvalidInputError
from billstream.core.money import quantize, round_half_up
from billstream.core.periods import BillingPeriod, Cadence, period_containing
from billstream.core.proration import ChargeState, ProratedLine, adjustments, prorate

UNIT_SETTINGS = settings(max_examples=300)
FIVE = Decimal("5.00")
JANUARY = BillingPeriod(date(2026, 1, 1), date(2026, 2, 1))
FEBRUARY = BillingPeriod(date(2026, 2, 1), date(2026, 3, 1))


def state(day: date, quantity: int | str, price: Decimal = FIVE, source: str = "s") -> ChargeState:
    return ChargeState(day, Decimal(quantity), price, source)


def summary(lines: list[ProratedLine]) -> list[tuple[date, date, Decimal, Fraction, Decimal]]:
    """(first day, last day, quantity, fraction, amount) of each line, as a user reads it."""
    return [
        (ln.start, ln.end - timedelta(days=1), ln.quantity, ln.fraction, ln.amount) for ln in lines
    ]


def total(lines: list[ProratedLine]) -> Decimal:
    return sum((ln.amount for ln in lines), Decimal(0))


# --- the one rounding: round_half_up --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Fraction(800, 31), 2, "25.81"),
        (Fraction(800, 31), 4, "25.8065"),
        (Fraction(1800, 7), 2, "257.14"),
        (Fraction(275, 7), 4, "39.2857"),
        (Fraction(250), 2, "250.00"),
        (Fraction(1, 200), 2, "0.01"),
        (Fraction(-1, 200), 2, "-0.01"),
        (Fraction(-5, 2), 0, "-3"),
        (Fraction(-1, 1000), 2, "0.00"),
        (Decimal("89.8263"), 2, "89.83"),
        (Decimal("0.125"), 2, "0.13"),
        (Decimal("-0.125"), 2, "-0.13"),
        (Fraction(10**40 + 1, 2), 0, str(10**40 // 2 + 1)),
    ],
)
def test_round_half_up_is_exact_and_symmetric(
    value: Fraction | Decimal, places: int, expected: str
) -> None:
    got = round_half_up(value, places)
    assert got == Decimal(expected)
    assert str(got) == expected


def test_round_half_up_refuses_a_non_finite_decimal() -> None:
    with pytest.raises(InvalidInputError):
        round_half_up(Decimal("NaN"), 2)


@UNIT_SETTINGS
@given(
    value=st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False),
    places=st.integers(min_value=0, max_value=4),
)
def test_round_half_up_agrees_with_money_rounding(value: Decimal, places: int) -> None:
    assert round_half_up(value, places) == quantize(value, places)
    assert round_half_up(Fraction(value), places) == quantize(value, places)


@UNIT_SETTINGS
@given(
    value=st.fractions(max_denominator=10**6).filter(lambda f: abs(f) < 10**9),
    places=st.integers(min_value=0, max_value=6),
)
def test_round_half_up_is_within_half_a_unit(value: Fraction, places: int) -> None:
    got = Fraction(round_half_up(value, places))
    assert abs(got - value) <= Fraction(1, 2 * 10**places)


# --- SPEC C4: $5 per number; 50 from Jan 1, 60 from Jan 16, 55 from Feb 25 -----------------

SPEC_TIMELINE = [
    state(date(2026, 1, 1), 50, source="order"),
    state(date(2026, 1, 16), 60, source="add-10"),
    state(date(2026, 2, 25), 55, source="remove-5"),
]


def test_spec_january_at_cents() -> None:
    lines = prorate(SPEC_TIMELINE, JANUARY, places=2)
    assert summary(lines) == [
        (date(2026, 1, 1), date(2026, 1, 31), 50, Fraction(31, 31), Decimal("250.00")),
        (date(2026, 1, 16), date(2026, 1, 31), 10, Fraction(16, 31), Decimal("25.81")),
    ]
    assert [(ln.days, ln.period_days) for ln in lines] == [(31, 31), (16, 31)]
    assert [ln.source for ln in lines] == ["order", "add-10"]
    assert total(lines) == Decimal("275.81")


def test_spec_february_at_cents() -> None:
    lines = prorate(SPEC_TIMELINE, FEBRUARY, places=2)
    assert summary(lines) == [
        (date(2026, 2, 1), date(2026, 2, 24), 60, Fraction(24, 28), Decimal("257.14")),
        (date(2026, 2, 25), date(2026, 2, 28), 55, Fraction(4, 28), Decimal("39.29")),
    ]
    assert [(ln.days, ln.period_days) for ln in lines] == [(24, 28), (4, 28)]
    assert [ln.source for ln in lines] == ["add-10", "remove-5"]
    assert total(lines) == Decimal("296.43")


def test_spec_table_at_four_places() -> None:
    january = prorate(SPEC_TIMELINE, JANUARY, places=4)
    february = prorate(SPEC_TIMELINE, FEBRUARY, places=4)
    assert [str(ln.amount) for ln in january + february] == [
        "250.0000",
        "25.8065",
        "257.1429",
        "39.2857",
    ]


def test_spec_periods_come_from_calendar_monthly_billing() -> None:
    anchor = date(2026, 1, 1)
    assert period_containing(date(2026, 1, 16), anchor=anchor, cadence=Cadence.MONTHLY) == JANUARY
    assert period_containing(date(2026, 2, 25), anchor=anchor, cadence=Cadence.MONTHLY) == FEBRUARY


# --- the tranche rule -----------------------------------------------------------------------


def test_a_whole_period_is_one_line_with_fraction_one() -> None:
    lines = prorate([state(date(2025, 6, 1), 3)], JANUARY, places=2)
    assert summary(lines) == [(date(2026, 1, 1), date(2026, 1, 31), 3, 1, Decimal("15.00"))]


def test_nothing_is_charged_without_a_state_in_force() -> None:
    assert prorate([], JANUARY, places=2) == []
    assert prorate([state(date(2026, 2, 1), 5)], JANUARY, places=2) == []


def test_a_subscription_starting_mid_period_is_charged_from_its_start() -> None:
    lines = prorate([state(date(2026, 1, 10), 2)], JANUARY, places=2)
    # 2 x 5 x 22/31 = 7.0967...
    assert summary(lines) == [
        (date(2026, 1, 10), date(2026, 1, 31), 2, Fraction(22, 31), Decimal("7.10"))
    ]


def test_a_decrease_shrinks_the_newest_tranches_first() -> None:
    # given 50 numbers, 10 more on Jan 11, 10 more on Jan 21
    timeline = [
        state(date(2026, 1, 1), 50, source="order"),
        state(date(2026, 1, 11), 60, source="a"),
        state(date(2026, 1, 21), 70, source="b"),
        # when 15 are removed on Jan 26
        state(date(2026, 1, 26), 55, source="c"),
    ]
    lines = prorate(timeline, JANUARY, places=2)
    # then tranche b closes whole, tranche a closes and 5 of it reopen; the first runs on
    assert [(ln.start, ln.end, ln.quantity, ln.amount, ln.source) for ln in lines] == [
        (date(2026, 1, 11), date(2026, 1, 26), 10, Decimal("24.19"), "a"),
        (date(2026, 1, 21), date(2026, 1, 26), 10, Decimal("8.06"), "b"),
        (date(2026, 1, 1), date(2026, 2, 1), 50, Decimal("250.00"), "order"),
        (date(2026, 1, 26), date(2026, 2, 1), 5, Decimal("4.84"), "c"),
    ]


def test_a_decrease_below_the_first_tranche_reopens_it_smaller() -> None:
    timeline = [
        state(date(2026, 1, 1), 50),
        state(date(2026, 1, 16), 60),
        state(date(2026, 1, 21), 40, source="cut"),
    ]
    lines = prorate(timeline, JANUARY, places=2)
    assert [(ln.start, ln.end, ln.quantity, ln.source) for ln in lines] == [
        (date(2026, 1, 1), date(2026, 1, 21), 50, "s"),
        (date(2026, 1, 16), date(2026, 1, 21), 10, "s"),
        (date(2026, 1, 21), date(2026, 2, 1), 40, "cut"),
    ]


def test_a_price_change_closes_every_line_and_opens_one_at_the_new_price() -> None:
    # given 50 then 60 numbers at $5, when upgraded to $6 on Jan 21
    timeline = [
        state(date(2026, 1, 1), 50),
        state(date(2026, 1, 16), 60),
        state(date(2026, 1, 21), 60, Decimal("6.00"), "upgrade"),
    ]
    lines = prorate(timeline, JANUARY, places=2)
    assert [(ln.start, ln.end, ln.quantity, ln.unit_price, ln.amount) for ln in lines] == [
        (date(2026, 1, 1), date(2026, 1, 21), 50, FIVE, Decimal("161.29")),
        (date(2026, 1, 16), date(2026, 1, 21), 10, FIVE, Decimal("8.06")),
        (date(2026, 1, 21), date(2026, 2, 1), 60, Decimal("6.00"), Decimal("127.74")),
    ]


def test_a_downgrade_to_fewer_units_at_a_lower_price() -> None:
    timeline = [state(date(2026, 1, 1), 10), state(date(2026, 1, 11), 4, Decimal("3"), "down")]
    lines = prorate(timeline, JANUARY, places=2)
    # 10 x 5 x 10/31 = 16.129..., 4 x 3 x 21/31 = 8.129...
    assert summary(lines) == [
        (date(2026, 1, 1), date(2026, 1, 10), 10, Fraction(10, 31), Decimal("16.13")),
        (date(2026, 1, 11), date(2026, 1, 31), 4, Fraction(21, 31), Decimal("8.13")),
    ]


def test_a_cancellation_charges_up_to_the_day_before_it() -> None:
    timeline = [state(date(2026, 1, 1), 50), state(date(2026, 1, 20), 0, source="cancel")]
    assert summary(prorate(timeline, JANUARY, places=2)) == [
        (date(2026, 1, 1), date(2026, 1, 19), 50, Fraction(19, 31), Decimal("153.23"))
    ]
    assert prorate(timeline, FEBRUARY, places=2) == []


def test_a_trial_ending_mid_period_is_charged_from_the_trial_end() -> None:
    # given a trial (quantity 0) until Jan 15, then 10 numbers
    timeline = [
        state(date(2026, 1, 1), 0, source="trial"),
        state(date(2026, 1, 15), 10, source="paid"),
    ]
    lines = prorate(timeline, JANUARY, places=2)
    # then only Jan 15-31 is charged: 10 x 5 x 17/31 = 27.419...
    assert summary(lines) == [
        (date(2026, 1, 15), date(2026, 1, 31), 10, Fraction(17, 31), Decimal("27.42"))
    ]
    assert lines[0].source == "paid"


def test_a_suspension_and_resumption_charge_nothing_in_between() -> None:
    timeline = [
        state(date(2026, 1, 1), 10),
        state(date(2026, 1, 11), 0, source="suspend"),
        state(date(2026, 1, 21), 10, source="resume"),
    ]
    lines = prorate(timeline, JANUARY, places=2)
    assert [(ln.start, ln.end, ln.days) for ln in lines] == [
        (date(2026, 1, 1), date(2026, 1, 11), 10),
        (date(2026, 1, 21), date(2026, 2, 1), 11),
    ]


def test_a_change_on_the_last_day_of_a_month_is_charged_one_day() -> None:
    # a change at 23:30 local time on Jan 31 is a change on the local date Jan 31
    timeline = [state(date(2026, 1, 1), 50), state(date(2026, 1, 31), 60)]
    lines = prorate(timeline, JANUARY, places=2)
    assert summary(lines)[1] == (
        date(2026, 1, 31),
        date(2026, 1, 31),
        10,
        Fraction(1, 31),
        Decimal("1.61"),
    )


def test_a_change_on_the_first_day_of_the_next_period_is_not_in_this_one() -> None:
    timeline = [state(date(2026, 1, 1), 50), state(date(2026, 2, 1), 60)]
    assert total(prorate(timeline, JANUARY, places=2)) == Decimal("250.00")
    assert summary(prorate(timeline, FEBRUARY, places=2)) == [
        (date(2026, 2, 1), date(2026, 2, 28), 60, 1, Decimal("300.00"))
    ]


@pytest.mark.parametrize(
    ("period", "days"),
    [
        (BillingPeriod(date(2026, 2, 1), date(2026, 3, 1)), 28),
        (BillingPeriod(date(2028, 2, 1), date(2028, 3, 1)), 29),
        (BillingPeriod(date(2026, 4, 1), date(2026, 5, 1)), 30),
        (BillingPeriod(date(2026, 1, 1), date(2026, 2, 1)), 31),
    ],
)
def test_the_divisor_is_the_real_length_of_the_month(period: BillingPeriod, days: int) -> None:
    # 10 more numbers from the 15th
    timeline = [state(period.start, 50), state(period.start + timedelta(days=14), 60)]
    added = prorate(timeline, period, places=4)[1]
    assert added.period_days == days
    assert added.fraction == Fraction(days - 14, days)
    assert added.amount == round_half_up(Fraction(50 * (days - 14), days), 4)


def test_a_leap_february_divides_by_29() -> None:
    period = period_containing(date(2028, 2, 29), anchor=date(2028, 1, 1), cadence=Cadence.MONTHLY)
    lines = prorate([state(date(2028, 1, 1), 50), state(date(2028, 2, 15), 60)], period, places=2)
    # 10 x 5 x 15/29 = 25.862...
    assert summary(lines)[1] == (
        date(2028, 2, 15),
        date(2028, 2, 29),
        10,
        Fraction(15, 29),
        Decimal("25.86"),
    )


def test_billing_day_31_prorates_over_the_clamped_february_period() -> None:
    period = period_containing(date(2026, 3, 10), anchor=date(2026, 1, 31), cadence=Cadence.MONTHLY)
    assert (period.start, period.end, period.days) == (date(2026, 2, 28), date(2026, 3, 31), 31)
    lines = prorate([state(date(2026, 1, 31), 1), state(date(2026, 3, 15), 0)], period, places=2)
    # 1 x 5 x 15/31 = 2.419...
    assert summary(lines) == [
        (date(2026, 2, 28), date(2026, 3, 14), 1, Fraction(15, 31), Decimal("2.42"))
    ]


def test_a_quarterly_period_prorates_over_its_real_days() -> None:
    period = period_containing(date(2026, 2, 1), anchor=date(2026, 1, 1), cadence=Cadence.QUARTERLY)
    assert period.days == 90
    lines = prorate([state(date(2026, 2, 15), 3, Decimal("30.00"))], period, places=2)
    # Feb 15 to Mar 31: 45 days; 3 x 30 x 45/90 = 45.00
    assert summary(lines) == [
        (date(2026, 2, 15), date(2026, 3, 31), 3, Fraction(1, 2), Decimal("45.00"))
    ]


def test_states_of_the_same_day_apply_in_order_so_the_last_wins() -> None:
    same_day = [
        state(date(2026, 1, 1), 50),
        state(date(2026, 1, 16), 60, source="a"),
        state(date(2026, 1, 16), 55, source="b"),
    ]
    only_last = [state(date(2026, 1, 1), 50), state(date(2026, 1, 16), 55, source="b")]
    assert prorate(same_day, JANUARY, places=2) == prorate(only_last, JANUARY, places=2)


# --- the fixed 30-day option ----------------------------------------------------------------


def test_fixed_30_day_counts_january_16_to_31_as_15_of_30_days() -> None:
    lines = prorate(SPEC_TIMELINE, JANUARY, places=2, fixed_30_day=True)
    # the whole month is 1; Jan 16-31 is 15 days of a 30-day month: 10 x 5 x 15/30 = 25.00
    assert summary(lines) == [
        (date(2026, 1, 1), date(2026, 1, 31), 50, 1, Decimal("250.00")),
        (date(2026, 1, 16), date(2026, 1, 31), 10, Fraction(15, 30), Decimal("25.00")),
    ]
    assert [ln.period_days for ln in lines] == [30, 30]


def test_fixed_30_day_in_february_counts_its_last_day_as_the_30th() -> None:
    lines = prorate(SPEC_TIMELINE, FEBRUARY, places=2, fixed_30_day=True)
    # Feb 1-24 is 24/30: 60 x 5 x 24/30 = 240.00; Feb 25 to the month end is 6/30:
    # 55 x 5 x 6/30 = 55.00; together 295.00 = 300.00 less 5 numbers for 6 of 30 days
    assert summary(lines) == [
        (date(2026, 2, 1), date(2026, 2, 24), 60, Fraction(24, 30), Decimal("240.00")),
        (date(2026, 2, 25), date(2026, 2, 28), 55, Fraction(6, 30), Decimal("55.00")),
    ]


def test_fixed_30_day_whole_february_is_one_whole_period() -> None:
    lines = prorate([state(date(2026, 1, 1), 2)], FEBRUARY, places=2, fixed_30_day=True)
    assert summary(lines) == [(date(2026, 2, 1), date(2026, 2, 28), 2, 1, Decimal("10.00"))]


def test_fixed_30_day_a_span_from_day_2_of_a_31_day_month_is_29_of_30() -> None:
    lines = prorate([state(date(2026, 1, 2), 1)], JANUARY, places=2, fixed_30_day=True)
    assert (lines[0].days, lines[0].fraction, lines[0].amount) == (
        29,
        Fraction(29, 30),
        Decimal("4.83"),
    )


@pytest.mark.parametrize(
    "period",
    [
        JANUARY,
        FEBRUARY,
        BillingPeriod(date(2028, 2, 1), date(2028, 3, 1)),  # leap February
        BillingPeriod(date(2026, 1, 31), date(2026, 2, 28)),  # anniversary on the 31st
        BillingPeriod(date(2026, 2, 28), date(2026, 3, 31)),
        BillingPeriod(date(2026, 1, 1), date(2026, 4, 1)),  # a quarter
    ],
)
def test_fixed_30_day_spans_split_anywhere_add_up_to_the_whole_period(
    period: BillingPeriod,
) -> None:
    day = period.start
    while day < period.end:
        # a price change on `day` splits the period into two lines
        timeline = [state(period.start, 1, Decimal(5)), state(day, 1, Decimal(7))]
        lines = prorate(timeline, period, places=2, fixed_30_day=True)
        assert sum(ln.fraction for ln in lines) == 1
        day += timedelta(days=1)


def test_fixed_30_day_counts_30_days_per_month_of_a_quarter() -> None:
    quarter = BillingPeriod(date(2026, 1, 1), date(2026, 4, 1))
    lines = prorate(
        [state(date(2026, 2, 15), 1, Decimal("90"))], quarter, places=2, fixed_30_day=True
    )
    # Feb 15 to Mar 31: 16 days of a 30-day February, then 30 of March
    assert lines[0].period_days == 90
    assert lines[0].fraction == Fraction(46, 90)
    assert lines[0].amount == Decimal("46.00")


# --- bad timelines ---------------------------------------------------------------------------


def test_states_out_of_date_order_are_refused_naming_the_state() -> None:
    timeline = [state(date(2026, 1, 16), 60), state(date(2026, 1, 1), 50)]
    with pytest.raises(InvalidInputError) as raised:
        prorate(timeline, JANUARY, places=2)
    assert raised.value.field == "states[1].effective"


def test_a_negative_quantity_is_refused_naming_the_state() -> None:
    timeline = [state(date(2026, 1, 1), 50), state(date(2026, 1, 16), -1)]
    with pytest.raises(InvalidInputError) as raised:
        prorate(timeline, JANUARY, places=2)
    assert raised.value.field == "states[1].quantity"


# --- adjustments: credits and charges for an in-advance period ------------------------------


def test_a_mid_period_removal_credits_the_charged_line_and_charges_the_split() -> None:
    # given January charged in advance for 60 numbers
    charged = prorate([state(date(2025, 12, 1), 60)], JANUARY, places=2)
    assert total(charged) == Decimal("300.00")
    # when 5 are removed on Jan 25
    recomputed = prorate(
        [state(date(2025, 12, 1), 60), state(date(2026, 1, 25), 55)], JANUARY, places=2
    )
    result = adjustments(charged, recomputed)
    # then the whole line is credited and the two lines of the new timeline charged
    assert [(ln.quantity, ln.amount) for ln in result] == [
        (-60, Decimal("-300.00")),
        (60, Decimal("232.26")),
        (55, Decimal("62.10")),
    ]
    assert total(charged) + total(result) == total(recomputed) == Decimal("294.36")


def test_a_cancellation_credits_what_is_left_of_the_period() -> None:
    charged = prorate([state(date(2026, 1, 1), 10)], JANUARY, places=2)
    recomputed = prorate(
        [state(date(2026, 1, 1), 10), state(date(2026, 1, 11), 0)], JANUARY, places=2
    )
    result = adjustments(charged, recomputed)
    # 10 x 5 x 10/31 = 16.129... kept; the net credit is 50.00 - 16.13
    assert total(result) == Decimal("-33.87")


def test_a_second_change_credits_only_what_is_still_charged() -> None:
    # given January charged, then adjusted once for a removal on Jan 25
    first = [state(date(2026, 1, 1), 60)]
    second = [*first, state(date(2026, 1, 25), 55)]
    third = [*second, state(date(2026, 1, 28), 50)]
    charged = prorate(first, JANUARY, places=2)
    charged += adjustments(charged, prorate(second, JANUARY, places=2))
    # when a second removal on Jan 28 is adjusted
    result = adjustments(charged, prorate(third, JANUARY, places=2))
    # then only the Jan 25-31 line is credited (the original was credited already), and the
    # new split charged: 55 x 5 x 3/31 = 26.612..., 50 x 5 x 4/31 = 32.258...
    assert [(ln.start, ln.end, ln.quantity, ln.amount) for ln in result] == [
        (date(2026, 1, 25), date(2026, 2, 1), -55, Decimal("-62.10")),
        (date(2026, 1, 25), date(2026, 1, 28), 55, Decimal("26.61")),
        (date(2026, 1, 28), date(2026, 2, 1), 50, Decimal("32.26")),
    ]
    assert total(charged) + total(result) == total(prorate(third, JANUARY, places=2))


def test_adjusting_an_unchanged_period_gives_nothing() -> None:
    lines = prorate(SPEC_TIMELINE, JANUARY, places=2)
    assert adjustments(lines, lines) == []


def test_a_credit_for_a_line_never_charged_is_refused() -> None:
    line = prorate([state(date(2026, 1, 1), 1)], JANUARY, places=2)[0]
    with pytest.raises(InvalidInputError) as raised:
        adjustments([line.negated()], [])
    assert raised.value.field == "charged[0]"


def test_a_recomputed_credit_is_refused() -> None:
    line = prorate([state(date(2026, 1, 1), 1)], JANUARY, places=2)[0]
    with pytest.raises(InvalidInputError) as raised:
        adjustments([line], [line, line.negated()])
    assert raised.value.field == "recomputed[1].quantity"


# --- properties ------------------------------------------------------------------------------

PRICES = [Decimal("5.00"), Decimal("4.50"), Decimal("7.25"), Decimal("0.3333")]


@st.composite
def periods(draw: st.DrawFn) -> BillingPeriod:
    day = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
    anchor = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 12, 31)))
    cadence = draw(st.sampled_from([Cadence.MONTHLY, Cadence.MONTHLY, Cadence.QUARTERLY]))
    return period_containing(day, anchor=anchor, cadence=cadence)


@st.composite
def timelines(draw: st.DrawFn, period: BillingPeriod) -> list[ChargeState]:
    """States from a little before the period to a little after, in date order."""
    offsets = draw(st.lists(st.integers(-40, period.days + 5), min_size=0, max_size=8))
    states = [
        ChargeState(
            period.start + timedelta(days=offset),
            Decimal(draw(st.integers(0, 120))),
            draw(st.sampled_from(PRICES)),
            f"change-{n}",
        )
        for n, offset in enumerate(sorted(offsets))
    ]
    return states


@st.composite
def period_and_timeline(draw: st.DrawFn) -> tuple[BillingPeriod, list[ChargeState]]:
    period = draw(periods())
    return period, draw(timelines(period))


def in_force(states: list[ChargeState], day: date) -> ChargeState | None:
    before = [s for s in states if s.effective <= day]
    return before[-1] if before else None


def integral(states: list[ChargeState], period: BillingPeriod) -> Fraction:
    """Sum over the period's days of quantity x unit price / period days."""
    owed = Fraction(0)
    for n in range(period.days):
        current = in_force(states, period.start + timedelta(days=n))
        if current is not None:
            owed += Fraction(current.quantity) * Fraction(current.unit_price)
    return owed / period.days


@UNIT_SETTINGS
@given(case=period_and_timeline(), places=st.sampled_from([2, 4]))
def test_the_exact_lines_add_up_to_the_integral_of_quantity_times_price(
    case: tuple[BillingPeriod, list[ChargeState]], places: int
) -> None:
    period, states = case
    lines = prorate(states, period, places=places)
    assert sum((ln.exact_amount for ln in lines), Fraction(0)) == integral(states, period)
    # each line rounds once, so the total is within half a unit per line of the exact value
    rounded = Fraction(total(lines))
    assert abs(rounded - integral(states, period)) <= Fraction(len(lines), 2 * 10**places)


@UNIT_SETTINGS
@given(case=period_and_timeline())
def test_lines_lie_inside_the_period_and_are_never_empty(
    case: tuple[BillingPeriod, list[ChargeState]],
) -> None:
    period, states = case
    for line in prorate(states, period, places=2):
        assert period.start <= line.start < line.end <= period.end
        assert line.quantity > 0
        assert line.days == (line.end - line.start).days
        assert line.fraction == Fraction(line.days, period.days)
        assert line.amount == round_half_up(line.exact_amount, 2)


@UNIT_SETTINGS
@given(
    period=periods(),
    cuts=st.lists(st.integers(1, 88), max_size=6),
    quantity=st.integers(1, 500),
    price=st.sampled_from(PRICES),
    places=st.sampled_from([2, 4]),
)
def test_splitting_a_period_at_any_dates_prorates_to_the_whole(
    period: BillingPeriod, cuts: list[int], quantity: int, price: Decimal, places: int
) -> None:
    # given a whole period, and the same quantity cut into spans (a zero-day suspension)
    whole = prorate([state(period.start, quantity, price)], period, places=places)
    split = [state(period.start, quantity, price)]
    for cut in sorted({c for c in cuts if c < period.days}):
        day = period.start + timedelta(days=cut)
        split += [state(day, 0, price, "suspend"), state(day, quantity, price, "resume")]
    pieces = prorate(split, period, places=places)
    # then the spans tile the period, and their fractions add up to one
    assert [p.start for p in pieces[1:]] == [p.end for p in pieces[:-1]]
    assert sum((p.fraction for p in pieces), Fraction(0)) == 1
    # and the amounts to the whole, within one rounding unit per line
    unit = Decimal(1).scaleb(-places)
    assert abs(total(pieces) - total(whole)) <= len(pieces) * unit


@UNIT_SETTINGS
@given(case=period_and_timeline())
def test_a_timeline_replayed_gives_the_same_lines(
    case: tuple[BillingPeriod, list[ChargeState]],
) -> None:
    period, states = case
    lines = prorate(states, period, places=2)
    # the same timeline again, as another sequence
    assert prorate(tuple(states), period, places=2) == lines
    # only the last state before the period matters
    before = [s for s in states if s.effective <= period.start]
    trimmed = before[-1:] + [s for s in states if s.effective > period.start]
    assert prorate(trimmed, period, places=2) == lines
    # repeating the state in force changes nothing
    repeated = [s for t in states for s in (t, t)]
    assert prorate(repeated, period, places=2) == lines
    # and a charged period adjusted with the same timeline needs no adjustment
    assert adjustments(lines, prorate(states, period, places=2)) == []


@settings(max_examples=200)
@given(
    period=periods(),
    data=st.data(),
    steps=st.integers(min_value=1, max_value=5),
)
def test_credits_never_exceed_what_was_charged_net_of_earlier_credits(
    period: BillingPeriod, data: st.DataObject, steps: int
) -> None:
    # given an in-advance period charged, then re-charged after each of several changes
    charged = prorate(data.draw(timelines(period)), period, places=2)
    for _ in range(steps):
        recomputed = prorate(data.draw(timelines(period)), period, places=2)
        result = adjustments(charged, recomputed)
        # then each credit cancels a line still charged, at most as often as it is charged
        net = Counter(ln for ln in charged if ln.quantity > 0)
        net.subtract(ln.negated() for ln in charged if ln.quantity < 0)
        credited = Counter(ln.negated() for ln in result if ln.quantity < 0)
        assert all(count <= net[line] for line, count in credited.items())
        assert -sum((ln.amount for ln in result if ln.quantity < 0), Decimal(0)) <= total(charged)
        # and the period ends up charged exactly what the new timeline gives
        assert total(charged) + total(result) == total(recomputed)
        charged += result
        assert total(charged) >= 0
