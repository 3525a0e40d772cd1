"""Price models: what a quantity costs, as pure functions over frozen Pydantic models.

The models are also the shapes of the catalogue file and of the API (`type` tells them
apart), so validation lives here and names the offending field (`tiers.1.up_to`).

======================  =====================================================================
``flat``                `amount`, whatever the quantity
``per_unit``            quantity x `unit_price`
``graduated``           each tier's slice of the quantity at that tier's price (+ its fee)
``volume``              the whole quantity at the price of the tier it reaches (+ its fee)
``package``             per block of `block_size` units; a partial block counts as a whole
``percentage``          `percent` of other charges' amounts, of the period's usage, or of each
                        event's amount
======================  =====================================================================

Every model takes an optional `minimum` and `maximum` charge. Tiers are inclusive upper
bounds (`up_to: 100` holds units 0 < q <= 100); the last tier has no limit (`up_to: null`).
A tier's `flat_fee` is charged once when the quantity reaches that tier. By default zero
units reach no tier and cost nothing before the minimum; `zero_in_first_tier: true` puts
zero units in the first tier, so its flat fee is charged even then (as Kill Bill and Lago
charge it).

`price_of` returns the unrounded amount with the slices that explain it: each slice's
amount is its quantity x unit price, and the slices add up to the amount (a minimum or
maximum appears as a slice of its own). The caller rounds the line once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from billstream.core.bounds import Amount, Percent, Quantity
from billstream.core.errors import InvalidInputError

__all__ = [
    "EventSplit",
    "EventTotals",
    "Flat",
    "Graduated",
    "Package",
    "PerUnit",
    "Percentage",
    "PriceModel",
    "PriceResult",
    "PriceSlice",
    "Tier",
    "Volume",
    "event_split",
    "events_charge",
    "price_of",
    "unit_price_of",
]

NonNegative = Amount
_FROZEN = ConfigDict(extra="forbid", frozen=True)


class Tier(BaseModel):
    """Units up to `up_to` (inclusive; None: no limit, last tier only) at `unit_price`."""

    model_config = _FROZEN

    up_to: Annotated[Quantity, Field(gt=0)] | None = None
    unit_price: NonNegative
    flat_fee: NonNegative = Decimal(0)


class _Bounded(BaseModel):
    """A minimum and a maximum charge, both optional, minimum <= maximum."""

    model_config = _FROZEN

    minimum: NonNegative | None = None
    maximum: NonNegative | None = None

    @field_validator("maximum")
    @classmethod
    def _not_below_minimum(cls, maximum: Decimal | None, info: ValidationInfo) -> Decimal | None:
        minimum = info.data.get("minimum")
        if maximum is not None and minimum is not None and minimum > maximum:
            raise ValueError(f"maximum {maximum} is below minimum {minimum}")
        return maximum


class _Tiered(_Bounded):
    tiers: Annotated[list[Tier], Field(min_length=1)]
    zero_in_first_tier: StrictBool = Field(
        default=False, description="Zero units are in the first tier (its flat fee is charged)"
    )

    @field_validator("tiers")
    @classmethod
    def _ascending_and_open_ended(cls, tiers: list[Tier]) -> list[Tier]:
        last = len(tiers) - 1
        for index, tier in enumerate(tiers):
            if tier.up_to is None and index != last:
                _tier_error(index, tier, "only the last tier may have no limit (up_to: null)")
            if tier.up_to is not None and index == last:
                _tier_error(index, tier, "the last tier must have no limit (up_to: null)")
            previous = tiers[index - 1].up_to if index else None
            if tier.up_to is not None and previous is not None and tier.up_to <= previous:
                _tier_error(index, tier, f"tiers must ascend: {tier.up_to} is not above {previous}")
        return tiers


def _field_error(name: str, value: object, reason: str) -> ValidationError:
    error = PydanticCustomError("price_terms", reason)
    details = InitErrorDetails(type=error, loc=(name,), input=value)
    return ValidationError.from_exception_data("Percentage", [details])


def _tier_error(index: int, tier: Tier, reason: str) -> None:
    error = PydanticCustomError("tier_order", reason)
    details = InitErrorDetails(type=error, loc=(index, "up_to"), input=tier.up_to)
    raise ValidationError.from_exception_data("tiers", [details])


class Flat(_Bounded):
    """A fixed `amount` per period or per event, whatever the quantity.

    >>> price_of(Flat(amount=Decimal("20")), Decimal(3)).amount
    Decimal('20')
    """

    type: Literal["flat"] = "flat"
    amount: NonNegative


class PerUnit(_Bounded):
    """`unit_price` per unit: $5 per number.

    >>> price_of(PerUnit(unit_price=Decimal("5.00")), Decimal(50)).amount
    Decimal('250.00')
    """

    type: Literal["per_unit"] = "per_unit"
    unit_price: NonNegative


class Graduated(_Tiered):
    """Each tier's slice of the quantity at that tier's price, like income-tax brackets.

    >>> tiers = [Tier(up_to=Decimal(100), unit_price=Decimal("0.10")),
    ...          Tier(up_to=None, unit_price=Decimal("0.05"))]
    >>> price_of(Graduated(tiers=tiers), Decimal(150)).amount   # 100 x 0.10 + 50 x 0.05
    Decimal('12.50')
    """

    type: Literal["graduated"] = "graduated"


class Volume(_Tiered):
    """The whole quantity at the price of the tier it reaches.

    >>> tiers = [Tier(up_to=Decimal(100), unit_price=Decimal("0.10")),
    ...          Tier(up_to=None, unit_price=Decimal("0.05"))]
    >>> price_of(Volume(tiers=tiers), Decimal(150)).amount      # 150 x 0.05
    Decimal('7.50')
    """

    type: Literal["volume"] = "volume"


class Package(_Bounded):
    """`block_price` per block of `block_size` units; a partial block is a whole block.
    The first `free_units` are free; the blocks count from the unit after them.

    >>> price_of(Package(block_size=Decimal(100), block_price=Decimal(8)), Decimal(101)).amount
    Decimal('16')
    >>> free = Package(block_size=Decimal(100), block_price=Decimal(8), free_units=Decimal(50))
    >>> [price_of(free, Decimal(q)).amount for q in (50, 51, 150, 151)]
    [Decimal('0'), Decimal('8'), Decimal('8'), Decimal('16')]
    """

    type: Literal["package"] = "package"
    block_size: Annotated[Quantity, Field(gt=0)]
    block_price: NonNegative
    free_units: Quantity = Field(default=Decimal(0), description="The first units are free")


EVENTS = "events"
USAGE = "usage"


class Percentage(_Bounded):
    """`percent` of a base amount; `of` names the base.

    `of` is a charge code or a list of them (the same subscription's charges of the same
    period: their amounts are the base, given to `price_of` as `base`), ``usage`` (the
    period's rated usage amount, also given as `base`), or ``events``: each
    event's amount (given as `events`) is charged `percent` of it plus `fee_per_event`,
    clamped to `minimum_per_event` and `maximum_per_event`; then the sum is clamped to
    `minimum` and `maximum` as in every model.

    >>> price_of(Percentage(percent=Decimal(3), of="numbers"), Decimal(0), base=Decimal(200)).amount
    Decimal('6.00')
    >>> card = Percentage(percent=Decimal("2.9"), of="events", fee_per_event=Decimal("0.30"),
    ...                   minimum_per_event=Decimal("0.50"))
    >>> price_of(card, Decimal(0), events=[Decimal(5), Decimal(100)]).amount   # 0.50 + 3.20
    Decimal('3.70')
    """

    type: Literal["percentage"] = "percentage"
    percent: Percent
    of: Annotated[
        list[Annotated[str, Field(min_length=1)]],
        BeforeValidator(lambda value: [value] if isinstance(value, str) else value),
        Field(min_length=1, description="A charge code, a list of them, usage, or events"),
    ]
    fee_per_event: NonNegative | None = None
    minimum_per_event: NonNegative | None = None
    maximum_per_event: NonNegative | None = None

    @property
    def bases(self) -> tuple[str, ...]:
        """The names of the base: charge codes, or ``("events",)``."""
        return tuple(self.of)

    @property
    def per_event(self) -> bool:
        return self.bases == (EVENTS,)

    @property
    def of_usage(self) -> bool:
        """A percentage of the period's rated usage amount (``of: usage``)."""
        return self.bases == (USAGE,)

    @model_validator(mode="after")
    def _per_event_terms_only_per_event(self) -> Percentage:
        terms = ("fee_per_event", "minimum_per_event", "maximum_per_event")
        for name in terms:
            if getattr(self, name) is not None and not self.per_event:
                raise _field_error(name, getattr(self, name), "only a percentage of events has it")
        low, high = self.minimum_per_event, self.maximum_per_event
        if low is not None and high is not None and low > high:
            raise _field_error("maximum_per_event", high, f"below minimum_per_event {low}")
        return self


MICROS = Decimal(1_000_000)  # rated amounts are integer micro-units


@dataclass(frozen=True, slots=True)
class EventSplit:
    """Where a percentage of events' per-event bounds fall, in rated micro-units: an event
    of `a` micro-units is charged the minimum per event when ``a < below``, the maximum per
    event when ``a > above``, else `percent` of it plus the fee (None: no such bound).
    A database can so count and sum a period's events by integers alone (`EventTotals`).
    `flat` (a percent of zero) charges every event the fee, clamped."""

    below: int | None
    above: int | None
    flat: bool = False


@dataclass(frozen=True, slots=True)
class EventTotals:
    """A set of events split by an `EventSplit`: how many fall below, above and between,
    and the rated micro-units of those between."""

    below: int = 0
    above: int = 0
    between: int = 0
    between_micros: int = 0

    def __add__(self, other: EventTotals) -> EventTotals:
        return EventTotals(
            self.below + other.below,
            self.above + other.above,
            self.between + other.between,
            self.between_micros + other.between_micros,
        )


def event_split(model: Percentage) -> EventSplit:
    """The split of events of `model`, a percentage of events.

    >>> card = Percentage(percent=Decimal("2.9"), of="events", fee_per_event=Decimal("0.30"),
    ...                   minimum_per_event=Decimal("0.50"))
    >>> event_split(card)   # 2.9% x a + 0.30 < 0.50 when a < 6.896551... (micro-units)
    EventSplit(below=6896552, above=None, flat=False)
    """
    if not model.percent:
        return EventSplit(None, None, flat=True)
    fee = model.fee_per_event or Decimal(0)
    scale = MICROS * 100 / model.percent
    low, high = model.minimum_per_event, model.maximum_per_event
    below = None if low is None else _ceiling((low - fee) * scale)
    above = None if high is None else _floor((high - fee) * scale)
    return EventSplit(below, above)


def events_charge(model: Percentage, totals: EventTotals) -> Decimal:
    """What the events `totals` (split by `event_split(model)`) are charged, unrounded:
    each its percent plus the fee, clamped to the bounds per event, summed. The same as
    `price_of` over the events' amounts, before the model's `minimum` and `maximum`.

    >>> card = Percentage(percent=Decimal("2.9"), of="events", fee_per_event=Decimal("0.30"),
    ...                   minimum_per_event=Decimal("0.50"))
    >>> events_charge(card, EventTotals(below=1, between=1, between_micros=100_000_000))
    Decimal('3.70')
    """
    fee = model.fee_per_event or Decimal(0)
    low, high = model.minimum_per_event, model.maximum_per_event
    if not model.percent:
        each = fee if low is None or fee >= low else low
        each = each if high is None or each <= high else high
        return (totals.below + totals.above + totals.between) * each
    between = Decimal(totals.between_micros) / MICROS * model.percent / 100
    return (
        totals.below * (low or Decimal(0))
        + totals.above * (high or Decimal(0))
        + totals.between * fee
        + between
    )


def _ceiling(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_FLOOR"))


PriceModel = Annotated[
    Flat | PerUnit | Graduated | Volume | Package | Percentage, Field(discriminator="type")
]


@dataclass(frozen=True)
class PriceSlice:
    """One part of a price: `quantity` x `unit_price` = `amount` (unrounded)."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PriceResult:
    """The unrounded `amount`, the slices adding up to it, and the bound it was clamped to."""

    amount: Decimal
    slices: tuple[PriceSlice, ...]
    clamped: str | None = None


def price_of(
    model: PriceModel,
    quantity: Decimal,
    *,
    base: Decimal | None = None,
    events: Sequence[Decimal] | None = None,
    event_totals: EventTotals | None = None,
) -> PriceResult:
    """What `quantity` units cost under `model`, unrounded, with the slices explaining it.

    Parameters
    ----------
    model : a price model.
    quantity : the units (>= 0); ignored by `flat` and `percentage`.
    base : the amount a `percentage` of charges or of usage applies to; required for it.
    events : the event amounts a `percentage` of ``events`` applies to, or `event_totals`:
        its events split and summed by `event_split`; one of them is required for it.

    Returns
    -------
    The amount, clamped to the model's minimum and maximum; `clamped` says which applied.

    Examples
    --------
    >>> result = price_of(PerUnit(unit_price=Decimal(2), minimum=Decimal(10)), Decimal(3))
    >>> result.amount, result.clamped, [s.amount for s in result.slices]
    (Decimal('10'), 'minimum', [Decimal('6'), Decimal('4')])
    """
    if quantity < 0:
        raise InvalidInputError(f"a quantity cannot be negative, got {quantity}", field="quantity")
    if isinstance(model, Percentage) and model.per_event and event_totals is not None:
        charged = events_charge(model, event_totals)
        return _clamp(model, [_slice(f"{model.percent}% of events", Decimal(1), charged)])
    return _clamp(model, _slices(model, quantity, base, events))


def unit_price_of(model: PriceModel) -> Decimal:
    """The price per unit per period of a recurring charge, for proration.

    Only `flat` (its amount) and `per_unit` (its unit price) have one; a tiered, package or
    percentage price depends on the quantity and is refused.
    """
    if isinstance(model, Flat):
        return model.amount
    if isinstance(model, PerUnit):
        return model.unit_price
    raise InvalidInputError(
        f"a {model.type} price has no single unit price to prorate", field="type"
    )


def _slices(
    model: PriceModel, quantity: Decimal, base: Decimal | None, events: Sequence[Decimal] | None
) -> list[PriceSlice]:
    if isinstance(model, Flat):
        return [_slice("flat", Decimal(1), model.amount)]
    if isinstance(model, PerUnit):
        return [_slice("per unit", quantity, model.unit_price)] if quantity else []
    if isinstance(model, Graduated | Volume) and not quantity and model.zero_in_first_tier:
        return _tier_slices(model.tiers, 0, quantity)
    if isinstance(model, Graduated):
        return _graduated(model.tiers, quantity)
    if isinstance(model, Volume):
        return _volume(model.tiers, quantity)
    if isinstance(model, Package):
        return _package(model, quantity)
    if model.per_event:
        return _per_event(model, events)
    return _percentage(model, base)


def _slice(description: str, quantity: Decimal, unit_price: Decimal) -> PriceSlice:
    return PriceSlice(description, quantity, unit_price, quantity * unit_price)


def _tier_name(tiers: list[Tier], index: int) -> str:
    lower = tiers[index - 1].up_to if index else None
    upper = tiers[index].up_to
    if lower is None:
        span = "all units" if upper is None else f"up to {upper}"
    else:
        span = f"over {lower}" if upper is None else f"over {lower} up to {upper}"
    return f"tier {index + 1} ({span})"


def _graduated(tiers: list[Tier], quantity: Decimal) -> list[PriceSlice]:
    slices: list[PriceSlice] = []
    lower = Decimal(0)
    for index, tier in enumerate(tiers):
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        if upper <= lower:
            break
        slices += _tier_slices(tiers, index, upper - lower)
        lower = upper
    return slices


def _volume(tiers: list[Tier], quantity: Decimal) -> list[PriceSlice]:
    if not quantity:
        return []
    index = next(i for i, t in enumerate(tiers) if t.up_to is None or quantity <= t.up_to)
    return _tier_slices(tiers, index, quantity)


def _tier_slices(tiers: list[Tier], index: int, units: Decimal) -> list[PriceSlice]:
    name = _tier_name(tiers, index)
    slices = [_slice(name, units, tiers[index].unit_price)]
    if tiers[index].flat_fee:
        slices.append(_slice(f"{name} flat fee", Decimal(1), tiers[index].flat_fee))
    return slices


def _package(model: Package, quantity: Decimal) -> list[PriceSlice]:
    whole, part = divmod(max(quantity - model.free_units, Decimal(0)), model.block_size)
    blocks = whole + (1 if part else 0)
    if not blocks:
        return []
    return [_slice(f"blocks of {model.block_size}", blocks, model.block_price)]


def _percentage(model: Percentage, base: Decimal | None) -> list[PriceSlice]:
    names = ", ".join(model.bases)
    if base is None:
        raise InvalidInputError(f"a percentage of {names} needs its base amount", field="base")
    return [_slice(f"{model.percent}% of {names}", base, model.percent / 100)]


def _per_event(model: Percentage, events: Sequence[Decimal] | None) -> list[PriceSlice]:
    if events is None:
        raise InvalidInputError("a percentage of events needs the events' amounts", field="events")
    fee = model.fee_per_event or Decimal(0)
    low, high = model.minimum_per_event, model.maximum_per_event
    slices = []
    for amount in events:
        charge = amount * model.percent / 100 + fee
        clamped = charge if low is None or charge >= low else low
        clamped = clamped if high is None or clamped <= high else high
        slices.append(_slice(f"{model.percent}% of an event of {amount}", Decimal(1), clamped))
    return slices


def _clamp(model: PriceModel, slices: list[PriceSlice]) -> PriceResult:
    amount = sum((s.amount for s in slices), Decimal(0))
    if model.minimum is not None and amount < model.minimum:
        return _clamped_to(model.minimum, "minimum", slices, amount)
    if model.maximum is not None and amount > model.maximum:
        return _clamped_to(model.maximum, "maximum", slices, amount)
    return PriceResult(amount, tuple(slices))


def _clamped_to(
    bound: Decimal, name: str, slices: list[PriceSlice], amount: Decimal
) -> PriceResult:
    difference = _slice(f"{name} charge", Decimal(1), bound - amount)
    return PriceResult(bound, (*slices, difference), name)
