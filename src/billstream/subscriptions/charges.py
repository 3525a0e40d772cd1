"""The charge engine of bill runs: the lines of subscriptions, pure over the timeline.

One function, `billable_lines`, says what is charged: the bill run calls it with what the
invoices already hold, and the upcoming-charges preview (`subscription_lines`) with nothing
invoiced, so the two cannot disagree. For each prorated charge and each billing period up
to `until` (in advance: periods that start on or before it; in arrears: periods that end on
or before it), the lines are `core.proration.prorate` over the charge's states over the
whole period, and what invoices charged for the period is taken away
(`core.proration.adjustments`): a change after the period was invoiced gives the credit of
the lines no longer owed (negative quantity and amount) and the new lines.
One-time charges, the setup fee and an early-termination fee are single lines.

A percentage charge is priced on its base in each period (`_percentage_lines`): named
charges of the same period, ``usage``, the rated usage amount of the subscription's
account in the period, which the caller reads (`Usage`), or ``events``, each of its rated
records, which the caller splits and sums by the price's bounds per event (`Events`). A
line on usage is never taken as settled: usage may be re-rated after an invoice, and the
line is billed by difference.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from billstream.catalog.adjustments import apply_adjustments
from billstream.catalog.layers import ResolvedPrice
from billstream.catalog.price_models import (
    EventSplit,
    EventTotals,
    Percentage,
    PriceResult,
    event_split,
    price_of,
)
from billstream.core.money import Money, round_line
from billstream.core.periods import BillingPeriod, Cadence, period_containing, periods_between
from billstream.core.proration import ProratedLine, adjustments, prorate
from billstream.subscriptions.lifecycle import SubscriptionStatus
from billstream.subscriptions.timeline import (
    ONE_DAY,
    ONE_TIME_KINDS,
    Change,
    ChargeTerms,
    Phase,
    PriceBook,
    PricedState,
    Stream,
    charged_units,
    phase_on,
    replay,
    stream_states,
    streams,
)


class LineKind(StrEnum):
    """The kind of an invoice line. The charge engine gives the first five; billing adds
    usage and corrections. One enum, here below billing, so that a line keeps its kind from
    the engine to the invoice; its order is the order of an invoice's lines."""

    RECURRING = "recurring"  # a prorated charge for a span of a billing period
    CREDIT = "credit"  # a prorated line charged before, taken back (downgrade, cancellation)
    ONE_TIME = "one_time"  # a one-time product of the plan, on the start date
    SETUP_FEE = "setup_fee"
    EARLY_TERMINATION_FEE = "early_termination_fee"
    USAGE = "usage"
    USAGE_CORRECTION = "usage_correction"  # re-rated usage of a period already invoiced
    CORRECTION = "correction"  # a line of a credit note


@dataclass(frozen=True, slots=True)
class ChargeLine:
    subscription_id: str
    kind: LineKind
    charge: str  # the plan charge's code, or the fee's name
    description: str
    timing: str
    period: BillingPeriod
    start: date  # the service span [start, end), inside the period
    end: date
    days: int
    period_days: int
    quantity: Decimal
    fraction: Fraction
    unit_price: Decimal
    layer: str | None  # the price layer the unit price came from
    amount: Decimal  # rounded once, half-up, to the line precision
    currency: str
    source: str  # the subscription change (or price version) that opened the line
    on_usage: bool = False  # a percentage of the account's rated usage (never settled)


@dataclass(frozen=True, slots=True)
class SubscriptionFacts:
    """One subscription, as the charge engine reads it."""

    id: str
    currency: str
    start_date: date
    billing_anchor: date
    trial_end: date | None
    commitment_end: date | None
    changes: tuple[Change, ...]
    fixed_30_day: bool = False  # the tenant's proration basis: a 30-day month


@dataclass(frozen=True, slots=True)
class PeriodTotal:
    currency: str
    period: BillingPeriod
    amount: Money


def _due(period: BillingPeriod, timing: str, until: date) -> bool:
    return period.start <= until if timing == "advance" else period.end <= until + ONE_DAY


def _line(
    facts: SubscriptionFacts,
    stream: Stream,
    period: BillingPeriod,
    line: ProratedLine,
    states: Sequence[PricedState],
    *,
    on_usage: bool = False,
) -> ChargeLine:
    """`line` as a charge line; its layer is that of the state in force where it starts."""
    opened = [s for s in states if s.state.effective <= line.start]
    priced = opened[-1] if opened else states[0]
    return ChargeLine(
        subscription_id=facts.id,
        kind=LineKind.CREDIT if line.quantity < 0 else LineKind.RECURRING,
        charge=stream.code,
        description=priced.charge.name if priced.charge else stream.code,
        timing=stream.timing,
        period=period,
        start=line.start,
        end=line.end,
        days=line.days,
        period_days=line.period_days,
        quantity=line.quantity,
        fraction=line.fraction,
        unit_price=line.unit_price,
        layer=priced.layer,
        amount=line.amount,
        currency=facts.currency,
        source=line.source,
        on_usage=on_usage,
    )


def _prorated(
    states: Sequence[PricedState], period: BillingPeriod, places: int, fixed_30_day: bool
) -> list[ProratedLine]:
    if not states:
        return []
    return prorate([s.state for s in states], period, places=places, fixed_30_day=fixed_30_day)


def _single(
    facts: SubscriptionFacts,
    *,
    kind: LineKind,
    charge: str,
    description: str,
    day: date,
    cadence: Cadence,
    quantity: Decimal,
    unit_price: Decimal,
    amount: Decimal,
    layer: str | None,
    source: str,
    places: int,
) -> ChargeLine:
    period = period_containing(day, anchor=facts.billing_anchor, cadence=cadence)
    return ChargeLine(
        subscription_id=facts.id,
        kind=kind,
        charge=charge,
        description=description,
        timing="advance",
        period=period,
        start=day,
        end=day + ONE_DAY,
        days=1,
        period_days=1,
        quantity=quantity,
        fraction=Fraction(1),
        unit_price=unit_price,
        layer=layer,
        amount=round_line(Money(amount, facts.currency), places).amount,
        currency=facts.currency,
        source=source,
    )


def one_time_lines(
    facts: SubscriptionFacts,
    book: PriceBook,
    *,
    until: date,
    places: int,
    phases: Sequence[Phase] | None = None,
) -> list[ChargeLine]:
    """The plan's one-time products and setup fee on the start date; an early-termination
    fee when the subscription is cancelled before its commitment ends. `phases`: the
    changes already replayed, if the caller has them."""
    if phases is None:
        phases = replay(facts.changes, trial_end=facts.trial_end)
    if not phases or facts.start_date > until:
        return []
    first = phases[0]
    plan = book.plan(first.plan_id)
    prices = book.prices(plan.id, facts.start_date)
    out = [
        _one_time(facts, charge, prices[charge.code], first, plan.main_cadence, places)
        for charge in plan.charges
        if charge.product_kind in ONE_TIME_KINDS and charge.code in prices
    ]
    if plan.setup_fee:
        out.append(
            _fee(
                facts,
                LineKind.SETUP_FEE,
                "setup fee",
                facts.start_date,
                plan.setup_fee,
                cadence=plan.main_cadence,
                places=places,
                source=first.source,
            )
        )
    return out + _termination_fee(facts, phases, book, until=until, places=places)


def _one_time(
    facts: SubscriptionFacts,
    charge: ChargeTerms,
    price: ResolvedPrice,
    first: Phase,
    cadence: Cadence,
    places: int,
) -> ChargeLine:
    units, unit_price = charged_units(price, first.quantity)
    return _single(
        facts,
        kind=LineKind.ONE_TIME,
        charge=charge.code,
        description=charge.name,
        day=facts.start_date,
        cadence=cadence,
        quantity=units,
        unit_price=unit_price,
        amount=units * unit_price,
        layer=str(price.layer),
        source=first.source,
        places=places,
    )


def _fee(
    facts: SubscriptionFacts,
    kind: LineKind,
    description: str,
    day: date,
    fee: Decimal,
    *,
    cadence: Cadence,
    places: int,
    source: str,
) -> ChargeLine:
    return _single(
        facts,
        kind=kind,
        charge=str(kind),
        description=description,
        day=day,
        cadence=cadence,
        quantity=Decimal(1),
        unit_price=fee,
        amount=fee,
        layer="plan",
        source=source,
        places=places,
    )


def _termination_fee(
    facts: SubscriptionFacts,
    phases: Sequence[Phase],
    book: PriceBook,
    *,
    until: date,
    places: int,
) -> list[ChargeLine]:
    ended = [p for p in phases if p.status == SubscriptionStatus.CANCELLED]
    if not ended or facts.commitment_end is None:
        return []
    cancel = ended[0]
    plan = book.plan(cancel.plan_id)
    fee = plan.early_termination_fee
    if not fee or cancel.effective >= facts.commitment_end or cancel.effective > until:
        return []
    return [
        _fee(
            facts,
            LineKind.EARLY_TERMINATION_FEE,
            f"early termination before {facts.commitment_end.isoformat()}",
            cancel.effective,
            fee,
            cadence=plan.main_cadence,
            places=places,
            source=cancel.source,
        )
    ]


def subscription_lines(
    facts: SubscriptionFacts, book: PriceBook, *, until: date, places: int
) -> list[ChargeLine]:
    """Every line of one subscription up to `until`, by period, one-time lines first: what
    bill runs charge it when nothing has been invoiced yet (`billable_lines`, the bill run's
    own function, with nothing charged)."""
    return billable_lines(facts, book, until=until, places=places, charged={})


# What invoices already charged a subscription: its recurring lines (credits negative) by
# charge code and period start.
Charged = Mapping[tuple[str, date], Sequence[ProratedLine]]
# The rated usage amount of a subscription's account (unrounded), by the local date its
# rating period starts: a billing period's usage is that of the rating periods starting in it.
Usage = Mapping[date, Decimal]


# The rated events of a subscription's account split by a percentage of events' bounds
# (`price_models.event_split`), by the local date their rating period starts.
Events = Callable[[EventSplit], Mapping[date, EventTotals]]


def events_in(events: Mapping[date, EventTotals], period: BillingPeriod) -> EventTotals | None:
    """The events of the rating periods starting in `period`; None if none was rated."""
    found = [totals for day, totals in events.items() if period.start <= day < period.end]
    return sum(found, EventTotals()) if found else None


def usage_in(usage: Usage, period: BillingPeriod) -> Decimal | None:
    """The usage amount of the rating periods starting in `period`; None if none was rated.

    >>> january = BillingPeriod(date(2026, 1, 1), date(2026, 2, 1))
    >>> usage_in({date(2026, 1, 1): Decimal("0.5"), date(2026, 2, 1): Decimal(1)}, january)
    Decimal('0.5')
    >>> usage_in({}, january) is None
    True
    """
    amounts = [amount for day, amount in usage.items() if period.start <= day < period.end]
    return sum(amounts, Decimal(0)) if amounts else None


def billable_lines(
    facts: SubscriptionFacts,
    book: PriceBook,
    *,
    until: date,
    places: int,
    charged: Charged,
    settled: Collection[tuple[str, date]] = (),
    since: date | None = None,
    usage: Usage | None = None,
    events: Events | None = None,
) -> list[ChargeLine]:
    """What a bill run charges one subscription up to `until`, given what invoices charged.

    Each due period is prorated from every change recorded so far, and what was invoiced for
    it is taken away by `core.proration.adjustments`: a period never invoiced gives its lines,
    one invoiced as it still stands gives nothing, and one changed since gives the credits of
    the lines no longer owed and the new lines. This rests on what the invoices actually
    hold: nothing is charged twice and nothing is skipped, whenever the runs and the changes
    happen. Each due period is prorated over its whole length, changes after `until`
    included (a cancellation after `until` inside an in-advance period ends its charge).
    One-time lines and fees are returned whatever was invoiced (their keys are stable: the
    caller drops those already invoiced).

    Periods (charge code, period start) in `settled` are known to owe nothing new and are
    not prorated again; periods starting before `since` are left alone (the caller's
    look-back horizon: their invoiced lines were not read). `usage` is the account's rated
    usage, the base of percentages of usage, and `events` its rated events, of percentages
    of events (none without them).
    """
    phases = replay(facts.changes, trial_end=facts.trial_end)
    out = one_time_lines(facts, book, until=until, places=places, phases=phases)
    due: dict[Stream, list[BillingPeriod]] = {}
    states: dict[Stream, list[PricedState]] = {}
    for stream in streams(phases, book):
        periods = [
            p
            for p in periods_between(
                facts.start_date, until, anchor=facts.billing_anchor, cadence=stream.cadence
            )
            if _due(p, stream.timing, until)
        ]
        if periods:
            due[stream] = periods
            states[stream] = stream_states(
                phases, stream, book, anchor=facts.billing_anchor, until=periods[-1].last_day
            )

    def prorated(stream: Stream, period: BillingPeriod) -> list[ProratedLine]:
        return _prorated(states.get(stream, []), period, places, facts.fixed_30_day)

    for stream, periods in due.items():
        for period in periods:
            if (stream.code, period.start) in settled or (
                since is not None and period.start < since
            ):
                continue
            percentage, on_usage = _percentage_lines(
                stream, period, phases, book, prorated, usage or {}, events,
                currency=facts.currency, places=places,
            )  # fmt: skip
            recomputed = prorated(stream, period) + percentage
            before = charged.get((stream.code, period.start), ())
            owed = adjustments(before, recomputed) if before else recomputed
            out += [
                _line(facts, stream, period, line, states[stream], on_usage=on_usage)
                for line in owed
            ]
    return sorted(out, key=lambda line: line.period.start)


def _percentage_lines(
    stream: Stream,
    period: BillingPeriod,
    phases: Sequence[Phase],
    book: PriceBook,
    prorated: Callable[[Stream, BillingPeriod], list[ProratedLine]],
    usage: Usage,
    events: Events | None,
    *,
    currency: str,
    places: int,
) -> tuple[list[ProratedLine], bool]:
    """The line of a percentage charge for `period`, and whether its base is the account's
    usage (its amount or its events): its
    percent of the amounts of the charges it names (same subscription, timing, cadence and
    period, already prorated), of the account's rated usage in the period, or of each of
    its rated events in the period, with the price in force when the period (or the
    subscription, if later) starts. No line when the named charges have no line in the
    period, or no usage was rated in it."""
    phase = phase_on(phases, period.start) or next(
        (p for p in phases if period.start <= p.effective < period.end), None
    )
    charge = book.plan(phase.plan_id).charge(stream) if phase else None
    if phase is None or charge is None:
        return [], False
    price = book.prices(phase.plan_id, max(period.start, phase.effective)).get(charge.code)
    if price is None or not isinstance(price.model, Percentage):
        return [], False
    model = price.model
    amount: PriceResult
    if model.of_usage or model.per_event:
        start, end, days = period.start, period.end, (period.end - period.start).days
        if model.per_event:
            totals = events_in(events(event_split(model)) if events else {}, period)
            if totals is None:
                return [], True
            amount = price_of(model, Decimal(0), event_totals=totals)
        else:
            base = usage_in(usage, period)
            if base is None:
                return [], True
            amount = price_of(model, Decimal(0), base=base)
    else:
        lines = [
            line
            for code in model.bases
            for line in prorated(Stream(code, stream.timing, stream.cadence), period)
        ]
        if not lines:
            return [], False
        start, end = min(x.start for x in lines), max(x.end for x in lines)
        days = lines[0].period_days
        amount = price_of(model, Decimal(0), base=sum((x.amount for x in lines), Decimal(0)))
    steps = apply_adjustments(amount.amount, price.adjustments)
    exact = steps[-1].after if steps else amount.amount
    line = ProratedLine(
        start=start,
        end=end,
        quantity=Decimal(1),
        unit_price=exact,
        days=days,
        period_days=days,
        fraction=Fraction(1),
        amount=round_line(Money(exact, currency), places).amount,
        source=price.price_id or phase.source,
    )
    return [line], model.of_usage or model.per_event


def period_totals(lines: Sequence[ChargeLine]) -> list[PeriodTotal]:
    """The sum of the rounded lines of each (currency, billing period), in period order."""
    sums: dict[tuple[str, date, date], Money] = {}
    for line in lines:
        key = (line.currency, line.period.start, line.period.end)
        sums[key] = sums.get(key, Money.zero(line.currency)) + Money(line.amount, line.currency)
    return [
        PeriodTotal(currency, BillingPeriod(start, end), amount)
        for (currency, start, end), amount in sorted(sums.items(), key=lambda kv: (kv[0][1], kv[0]))
    ]


def currency_totals(lines: Sequence[ChargeLine]) -> list[Money]:
    """The sum of the rounded lines per currency."""
    currencies = sorted({line.currency for line in lines})
    return [
        Money.total((Money(x.amount, c) for x in lines if x.currency == c), c) for c in currencies
    ]
