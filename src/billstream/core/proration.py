"""Proration by day: the charge lines of one billing period from a timeline of states.

A subscription's charge is a timeline of `ChargeState`s, each the total quantity and unit
price in force from a date on. `prorate` turns the part of that timeline inside one period
into `ProratedLine`s, each charging

    unit_price x quantity x days / period_days

computed exactly (`Fraction`) and rounded once, half-up, to the tenant's precision. Totals
are sums of rounded lines, so a line never changes once shown.

**The tranche rule** decides how a change splits lines (SPEC C4, case study):

- at the period start, the quantity in force is one tranche (one open line);
- an increase at the same unit price opens a new tranche for the added quantity only, and
  the existing tranches run on;
- a decrease shrinks the newest tranches first (LIFO): a shrunk tranche's line closes the
  day before the change and, if some quantity is left, a line for the rest opens on it;
- a unit-price change (upgrade, downgrade, plan change) closes every open line and opens one
  for the whole new quantity at the new price;
- at the period end every open line closes; lines of zero quantity are not emitted.

$5 per number, 50 numbers from Jan 1, 60 from Jan 16, 55 from Feb 25 gives in January
(Jan 1-31, 50, 250.00) and (Jan 16-31, 10, 25.81); in February (Feb 1-24, 60, 257.14) and
(Feb 25-28, 55, 39.29).

`adjustments` compares what an in-advance period was charged with what the changed timeline
now gives, and returns the charges and the credits (negated lines) that make up the
difference; a credit never exceeds what was charged net of earlier credits.

Pure: no clock, no database; dates are local dates.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from billstream.core.errors import InvalidInputError
from billstream.core.money import round_half_up
from billstream.core.periods import BillingPeriod

__all__ = ["FIXED_MONTH_DAYS", "ChargeState", "ProratedLine", "adjustments", "prorate"]

FIXED_MONTH_DAYS = 30
"""The month length of the tenant option `fixed_30_day`."""


@dataclass(frozen=True, slots=True)
class ChargeState:
    """What a charge is from `effective` on (inclusive) until the next state.

    `quantity` is the total from then on, not a change: 0 means nothing is charged (before a
    trial ends, while suspended, after a cancellation). `unit_price` is per unit per whole
    period. `source` (a subscription change id) is kept on the lines the state opens.
    """

    effective: date
    quantity: Decimal
    unit_price: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class ProratedLine:
    """One charge line: `quantity` units at `unit_price` for the days `start` to `end`.

    The span is half-open (`end` is not billed). `fraction` is `days / period_days` (1 for
    the whole period). `amount` is rounded once; `exact_amount` is the unrounded value.
    A credit (from `adjustments`) has a negative quantity and amount.
    """

    start: date
    end: date
    quantity: Decimal
    unit_price: Decimal
    days: int
    period_days: int
    fraction: Fraction
    amount: Decimal
    source: str

    @property
    def exact_amount(self) -> Fraction:
        """`unit_price x quantity x fraction`, before the line's one rounding."""
        return Fraction(self.unit_price) * Fraction(self.quantity) * self.fraction

    def negated(self) -> ProratedLine:
        """The credit that cancels this line exactly (or the line a credit cancels)."""
        return replace(self, quantity=-self.quantity, amount=-self.amount)


@dataclass(frozen=True, slots=True)
class _Tranche:
    """An open line: `quantity` units billed from `start`."""

    start: date
    quantity: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class _Divisor:
    period: BillingPeriod
    period_days: int
    places: int

    fixed_30_day: bool

    def line(self, tranche: _Tranche, end: date, unit_price: Decimal) -> ProratedLine:
        if self.fixed_30_day:
            days = _day_360(end) - _day_360(tranche.start)
        else:
            days = (end - tranche.start).days
        fraction, amount = _prorated_amount(
            unit_price, tranche.quantity, days, self.period_days, self.places
        )
        return ProratedLine(
            start=tranche.start,
            end=end,
            quantity=tranche.quantity,
            unit_price=unit_price,
            days=days,
            period_days=self.period_days,
            fraction=fraction,
            amount=amount,
            source=tranche.source,
        )


@lru_cache(maxsize=65_536)
def _prorated_amount(
    unit_price: Decimal, quantity: Decimal, days: int, period_days: int, places: int
) -> tuple[Fraction, Decimal]:
    """`days / period_days` and the line's rounded amount. Cached: a bill run prorates the
    same few prices over the same few spans for many subscriptions, and the exact
    `Fraction` arithmetic is the costly part."""
    fraction = Fraction(days, period_days)
    exact = Fraction(unit_price) * Fraction(quantity) * fraction
    return fraction, round_half_up(exact, places)


def prorate(
    states: Sequence[ChargeState],
    period: BillingPeriod,
    *,
    places: int,
    fixed_30_day: bool = False,
) -> list[ProratedLine]:
    """The charge lines of `period` under the timeline `states`, by the tranche rule.

    Parameters
    ----------
    states : the whole timeline, in date order (equal dates apply in the given order, so the
        last state of a day wins). States before the period only set what is in force at its
        start; states on or after `period.end` are ignored. Before the first state nothing is
        charged.
    period : the billing period.
    places : decimal places of each line's one half-up rounding (2 for USD, or 4).
    fixed_30_day : the tenant option dividing by a fixed month of 30 days instead of the real
        period length. Days are counted on a calendar of 30-day months (30E/360: the 31st and
        the last day of February count as the 30th), so a month is 30 days, a quarter 90, a
        year 360, a span from Jan 16 to the end of January 15, and the spans of a period
        always add up to exactly the whole period.

    Returns
    -------
    The lines, ordered by when they close, then by when they opened. Their amounts are
    rounded; their sum is the period's total.

    Examples
    --------
    >>> jan = BillingPeriod(date(2026, 1, 1), date(2026, 2, 1))
    >>> states = [ChargeState(date(2026, 1, 1), Decimal(50), Decimal(5), "order"),
    ...           ChargeState(date(2026, 1, 16), Decimal(60), Decimal(5), "add-10")]
    >>> [(str(ln.start), ln.quantity, ln.fraction, ln.amount) for ln in prorate(states, jan,
    ...     places=2)]
    [('2026-01-01', Decimal('50'), Fraction(1, 1), Decimal('250.00')),
     ('2026-01-16', Decimal('10'), Fraction(16, 31), Decimal('25.81'))]
    """
    _check_timeline(states)
    divisor = _Divisor(
        period, _period_days(period, fixed_30_day=fixed_30_day), places, fixed_30_day
    )
    in_force = [s for s in states if s.effective <= period.start]
    open_tranches: list[_Tranche] = []
    price = Decimal(0)
    if in_force and in_force[-1].quantity > 0:
        open_tranches = [_Tranche(period.start, in_force[-1].quantity, in_force[-1].source)]
        price = in_force[-1].unit_price
    lines: list[ProratedLine] = []
    for state in states:
        if period.start < state.effective < period.end:
            closed, open_tranches, new_price = _apply(state, open_tranches, price)
            lines += [divisor.line(t, state.effective, price) for t in closed]
            price = new_price
    lines += [divisor.line(t, period.end, price) for t in open_tranches]
    return [line for line in lines if line.days > 0]


def _check_timeline(states: Sequence[ChargeState]) -> None:
    for index, state in enumerate(states):
        if state.quantity < 0:
            raise InvalidInputError(
                f"a quantity cannot be negative, got {state.quantity}",
                field=f"states[{index}].quantity",
            )
        if index and state.effective < states[index - 1].effective:
            raise InvalidInputError(
                f"states must be in date order: {state.effective} comes after "
                f"{states[index - 1].effective}",
                field=f"states[{index}].effective",
            )


def _period_days(period: BillingPeriod, *, fixed_30_day: bool) -> int:
    if not fixed_30_day:
        return period.days
    return _day_360(period.end) - _day_360(period.start)


def _day_360(day: date) -> int:
    """`day` on a calendar of 30-day months (30E/360): the 31st, and the last day of
    February, count as the 30th. Differences of it count days under the fixed 30-day month,
    so the spans of a period always add up to the whole period."""
    last = calendar.monthrange(day.year, day.month)[1]
    day_of_month = FIXED_MONTH_DAYS if day.day == last or day.day > FIXED_MONTH_DAYS else day.day
    return day.year * 360 + (day.month - 1) * FIXED_MONTH_DAYS + day_of_month - 1


def _apply(
    state: ChargeState, tranches: list[_Tranche], price: Decimal
) -> tuple[list[_Tranche], list[_Tranche], Decimal]:
    """Apply one state: the tranches it closes (at the old price), those open after, the price."""
    opened = [_Tranche(state.effective, state.quantity, state.source)] if state.quantity else []
    if not tranches:
        return [], opened, state.unit_price
    if state.unit_price != price:
        return tranches, opened, state.unit_price
    held = sum((t.quantity for t in tranches), Decimal(0))
    if state.quantity > held:
        added = _Tranche(state.effective, state.quantity - held, state.source)
        return [], [*tranches, added], price
    closed, kept = _shrink(tranches, held - state.quantity, state)
    return closed, kept, price


def _shrink(
    tranches: list[_Tranche], remove: Decimal, state: ChargeState
) -> tuple[list[_Tranche], list[_Tranche]]:
    """Take `remove` units off the newest tranches first; a partly taken one reopens."""
    kept = list(tranches)
    closed: list[_Tranche] = []
    while remove > 0:
        newest = kept.pop()
        closed.append(newest)
        left = newest.quantity - remove
        remove -= min(remove, newest.quantity)
        if left > 0:
            kept.append(_Tranche(state.effective, left, state.source))
    return list(reversed(closed)), kept


def adjustments(
    charged: Sequence[ProratedLine], recomputed: Sequence[ProratedLine]
) -> list[ProratedLine]:
    """The charges and credits that turn what a period was charged into what it now owes.

    For an in-advance period already charged as `charged` (its lines and any earlier
    adjustments), after the timeline changed and `prorate` now gives `recomputed`:

    - a line of `recomputed` not in `charged` is returned as it is (a charge);
    - a line of `charged` not in `recomputed` is returned negated (a credit).

    A credit in `charged` cancels the line it negates, so a credit is only ever issued for
    a line still charged net of earlier credits: credits never exceed charges. So
    `sum(charged) + sum(result) == sum(recomputed)`, and `adjustments(x, x) == []`.

    Returns
    -------
    The credits in the order their lines were charged, then the charges in `recomputed`'s
    order.

    Examples
    --------
    50 numbers charged for January in advance; 5 removed from Jan 25:

    >>> jan = BillingPeriod(date(2026, 1, 1), date(2026, 2, 1))
    >>> order = ChargeState(date(2026, 1, 1), Decimal(50), Decimal(5), "order")
    >>> charged = prorate([order], jan, places=2)
    >>> removal = ChargeState(date(2026, 1, 25), Decimal(45), Decimal(5), "remove-5")
    >>> [(ln.quantity, ln.amount) for ln in adjustments(charged, prorate([order, removal],
    ...     jan, places=2))]
    [(Decimal('-50'), Decimal('-250.00')), (Decimal('50'), Decimal('193.55')),
     (Decimal('45'), Decimal('50.81'))]
    """
    net = _net_charged(charged)
    wanted = Counter(_check_charge(line, f"recomputed[{i}]") for i, line in enumerate(recomputed))
    credits = [line.negated() for line in _in_order(net - wanted, charged)]
    return credits + _in_order(wanted - net, recomputed)


def _check_charge(line: ProratedLine, field: str) -> ProratedLine:
    if line.quantity < 0:
        raise InvalidInputError("a recomputed line cannot be a credit", field=f"{field}.quantity")
    return line


def _net_charged(charged: Sequence[ProratedLine]) -> Counter[ProratedLine]:
    """Each line charged, counted net of the credits that cancelled it."""
    net = Counter(line for line in charged if line.quantity >= 0)
    net.subtract(line.negated() for line in charged if line.quantity < 0)
    for index, line in enumerate(charged):
        if line.quantity < 0 and net[line.negated()] < 0:
            raise InvalidInputError(
                "this credit cancels more than was charged for its line",
                field=f"charged[{index}]",
            )
    return net


def _in_order(counts: Counter[ProratedLine], lines: Sequence[ProratedLine]) -> list[ProratedLine]:
    """The charge lines `counts` holds, each as often as counted, in the order of `lines`."""
    left = Counter(counts)
    out: list[ProratedLine] = []
    for line in lines:
        if line.quantity >= 0 and left[line] > 0:
            left[line] -= 1
            out.append(line)
    return out
