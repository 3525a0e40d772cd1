"""A subscription's timeline: its changes replayed into phases, then, per charge, ChargeStates.

Pure: no database, no clock. The service loads the changes and hands over a `PriceBook` (the
plans' terms and the prices in force on a date); everything here is computed from those.

Nothing billing needs is updated in place: the phases, and so every charge line, are rebuilt
from the recorded changes each time. Changes apply in order of their effective date, and in
the order they were recorded on the same date; the last change of a day sets that day's state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from billstream.catalog.adjustments import apply_adjustments
from billstream.catalog.layers import ResolvedPrice
from billstream.catalog.price_models import Flat, Percentage, PerUnit, price_of
from billstream.core.periods import Cadence, periods_between
from billstream.core.proration import ChargeState
from billstream.subscriptions.lifecycle import ALLOWED_FROM, ChangeKind, SubscriptionStatus

ONE_DAY = timedelta(days=1)
PRORATED_KINDS = frozenset({"recurring"})  # product kinds charged per billing period
ONE_TIME_KINDS = frozenset({"one_time", "hardware"})  # charged once, on the start date


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded change, as the timeline reads it."""

    id: str
    seq: int
    kind: ChangeKind
    effective: date
    recorded_at: datetime
    quantity: Decimal | None = None
    plan_id: str | None = None


@dataclass(frozen=True, slots=True)
class Phase:
    """The subscription's state from `effective` (inclusive) until the next phase."""

    effective: date
    status: SubscriptionStatus
    plan_id: str
    quantity: Decimal
    source: str  # the change that opened the phase


class InvalidTransitionError(Exception):
    """`change` does not fit the status the subscription has on its effective date."""

    def __init__(self, change: Change, status: SubscriptionStatus | None) -> None:
        self.change, self.status = change, status
        where = f"is {status}" if status is not None else "has not started"
        super().__init__(
            f"cannot {change.kind} a subscription that {where} on {change.effective.isoformat()}"
        )


def _push(phases: list[Phase], phase: Phase) -> None:
    if phases and phases[-1].effective == phase.effective:
        phases[-1] = phase
    else:
        phases.append(phase)


def _running_status(day: date, trial_end: date | None) -> SubscriptionStatus:
    in_trial = trial_end is not None and day < trial_end
    return SubscriptionStatus.TRIAL if in_trial else SubscriptionStatus.ACTIVE


def _apply(current: Phase | None, change: Change, trial_end: date | None) -> Phase:
    if change.kind == ChangeKind.CREATE:
        if current is not None or change.plan_id is None or change.quantity is None:
            raise InvalidTransitionError(change, current.status if current else None)
        status = _running_status(change.effective, trial_end)
        return Phase(change.effective, status, change.plan_id, change.quantity, change.id)
    if current is None or current.status not in ALLOWED_FROM[change.kind]:
        raise InvalidTransitionError(change, current.status if current else None)
    opened = replace(current, effective=change.effective, source=change.id)
    if change.kind == ChangeKind.QUANTITY and change.quantity is not None:
        return replace(opened, quantity=change.quantity)
    if change.kind == ChangeKind.PLAN and change.plan_id is not None:
        return replace(opened, plan_id=change.plan_id)
    statuses: dict[ChangeKind, SubscriptionStatus] = {
        ChangeKind.SUSPEND: SubscriptionStatus.SUSPENDED,
        ChangeKind.RESUME: _running_status(change.effective, trial_end),
        ChangeKind.CANCEL: SubscriptionStatus.CANCELLED,
        ChangeKind.EXPIRE: SubscriptionStatus.EXPIRED,
    }
    new_status = statuses.get(change.kind)
    if new_status is None:
        raise InvalidTransitionError(change, current.status)
    return replace(opened, status=new_status)


def replay(changes: Sequence[Change], *, trial_end: date | None) -> list[Phase]:
    """The phases `changes` make, in order; the trial ends by itself on `trial_end`.

    Raises `InvalidTransitionError` for the first change that does not fit the status on
    its date (e.g. resuming an active subscription).
    """
    phases: list[Phase] = []
    current: Phase | None = None
    trial_open = trial_end is not None
    for change in sorted(changes, key=lambda c: (c.effective, c.seq)):
        if current is not None and trial_end is not None and trial_open:
            trial_open = change.effective < trial_end
            current = current if trial_open else _end_trial(phases, current, trial_end)
        current = _apply(current, change, trial_end)
        _push(phases, current)
    if current is not None and trial_end is not None and trial_open:
        _end_trial(phases, current, trial_end)
    return phases


def _end_trial(phases: list[Phase], current: Phase, trial_end: date) -> Phase:
    if current.status != SubscriptionStatus.TRIAL:
        return current
    ended = replace(current, effective=trial_end, status=SubscriptionStatus.ACTIVE)
    _push(phases, ended)
    return ended


def phase_on(phases: Sequence[Phase], day: date) -> Phase | None:
    """The phase in force on `day`; None before the start (the subscription is pending)."""
    found = None
    for phase in phases:
        if phase.effective > day:
            break
        found = phase
    return found


def status_on(phases: Sequence[Phase], day: date) -> SubscriptionStatus:
    phase = phase_on(phases, day)
    return SubscriptionStatus.PENDING if phase is None else phase.status


# --- charges ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChargeTerms:
    """A plan's charge, as the timeline needs it."""

    code: str
    name: str
    product_code: str
    product_kind: str
    timing: str  # advance | arrears
    cadence: Cadence


@dataclass(frozen=True, slots=True)
class PlanTerms:
    id: str
    code: str
    name: str
    trial_days: int
    commitment_months: int
    setup_fee: Decimal | None
    early_termination_fee: Decimal | None
    charges: tuple[ChargeTerms, ...]

    def charge(self, stream: Stream) -> ChargeTerms | None:
        for charge in self.charges:
            if Stream.of(charge) == stream:
                return charge
        return None

    @property
    def main_cadence(self) -> Cadence:
        """The cadence `period_end` changes follow: the first prorated charge's, or monthly."""
        for charge in self.charges:
            if charge.product_kind in PRORATED_KINDS:
                return charge.cadence
        return Cadence.MONTHLY


class PriceBook(Protocol):
    """What the timeline reads from the catalogue (the service supplies it)."""

    def plan(self, plan_id: str) -> PlanTerms: ...

    def prices(self, plan_id: str, on: date) -> Mapping[str, ResolvedPrice]:
        """The resolved price of each charge of the plan in force on `on`."""
        ...

    def price_changes(self, plan_id: str) -> Sequence[date]:
        """Days on which a price of the plan may change (version starts, commitment end)."""
        ...


@dataclass(frozen=True, slots=True, order=True)
class Stream:
    """One prorated charge across plan changes: a new plan's charge with the same code,
    timing and cadence continues it (so an upgrade re-prices it mid-period)."""

    code: str
    timing: str
    cadence: Cadence

    @classmethod
    def of(cls, charge: ChargeTerms) -> Stream:
        return cls(charge.code, charge.timing, charge.cadence)


@dataclass(frozen=True, slots=True)
class PricedState:
    """A ChargeState with where its price came from."""

    state: ChargeState
    charge: ChargeTerms | None
    layer: str | None
    price_id: str | None


def streams(phases: Sequence[Phase], book: PriceBook) -> list[Stream]:
    """The prorated charges of every plan the subscription has had, in order of appearance."""
    found: list[Stream] = []
    for phase in phases:
        for charge in book.plan(phase.plan_id).charges:
            stream = Stream.of(charge)
            if charge.product_kind in PRORATED_KINDS and stream not in found:
                found.append(stream)
    return found


def charged_units(price: ResolvedPrice, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """(quantity, unit price per full period) of a charge at `quantity` units, adjusted.

    Per unit: the subscription's quantity at the unit price. Flat: one at the amount.
    Any other model (tiers, packages, a per-unit price with a minimum or maximum): one at
    the model's price for the whole quantity. Discounts and fees apply to the unit price.
    """
    model = price.model
    if isinstance(model, PerUnit) and model.minimum is None and model.maximum is None:
        units, unit_price = quantity, model.unit_price
    elif isinstance(model, Flat) and model.minimum is None and model.maximum is None:
        units, unit_price = Decimal(1), model.amount
    else:
        units, unit_price = Decimal(1), price_of(model, quantity).amount
    steps = apply_adjustments(unit_price, price.adjustments)
    return units, steps[-1].after if steps else unit_price


def _period_starts(stream: Stream, anchor: date, after: date, before: date) -> list[date]:
    """Period starts of `stream` strictly between `after` and `before`."""
    if before - after <= ONE_DAY:
        return []
    periods = periods_between(after, before - ONE_DAY, anchor=anchor, cadence=stream.cadence)
    return [p.start for p in periods if after < p.start < before]


def _priced(phase: Phase, charge: ChargeTerms | None, day: date, book: PriceBook) -> PricedState:
    price = book.prices(phase.plan_id, day).get(charge.code) if charge else None
    if price is None:
        return PricedState(ChargeState(day, Decimal(0), Decimal(0), phase.source), None, None, None)
    if isinstance(price.model, Percentage):  # priced on its base, per period (`charges`)
        state = ChargeState(day, Decimal(0), Decimal(0), phase.source)
        return PricedState(state, charge, str(price.layer), price.price_id)
    units, unit_price = charged_units(price, phase.quantity)
    if phase.status != SubscriptionStatus.ACTIVE:
        units = Decimal(0)
    source = phase.source if day == phase.effective else price.price_id
    return PricedState(
        ChargeState(day, units, unit_price, source), charge, str(price.layer), price.price_id
    )


def stream_states(
    phases: Sequence[Phase], stream: Stream, book: PriceBook, *, anchor: date, until: date
) -> list[PricedState]:
    """The ChargeStates of `stream` from the first phase to `until` (inclusive).

    A state opens at each phase, and at each period start and price change day of the
    catalogue (a new price version, the end of a commitment) where the price in force may
    differ; a state that changes neither quantity nor unit price is
    dropped. Outside `active` (pending, trial, suspended, cancelled, expired) nothing is
    charged: the quantity is 0.
    """
    out: list[PricedState] = []
    for i, phase in enumerate(phases):
        if phase.effective > until:
            break
        charge = book.plan(phase.plan_id).charge(stream)
        following = phases[i + 1].effective if i + 1 < len(phases) else until + ONE_DAY
        ends = min(following, until + ONE_DAY)
        changes = [d for d in book.price_changes(phase.plan_id) if phase.effective < d < ends]
        starts = _period_starts(stream, anchor, phase.effective, ends)
        for day in sorted({phase.effective, *starts, *changes}):
            priced = _priced(phase, charge, day, book)
            last = out[-1].state if out else None
            if last is None or (last.quantity, last.unit_price) != (
                priced.state.quantity,
                priced.state.unit_price,
            ):
                out.append(priced)
    return out
