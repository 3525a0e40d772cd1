"""Exact money: a `Decimal` amount with its ISO 4217 currency.

Amounts are never binary floats. Arithmetic keeps full precision; rounding happens once,
half-up, at named boundaries (`Money.round`, `round_line`), to the currency's minor unit
(from Babel's ISO 4217 data) or to an explicit number of places (a tenant option, e.g. 4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

from billstream.core.errors import InvalidInputError
from billstream.core.limits import MAX_MONEY, OutOfBoundsError

__all__ = [
    "Money",
    "minor_unit",
    "quantize",
    "round_half_up",
    "round_line",
    "validate_currency",
]


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def validate_currency(code: str, *, field: str = "currency") -> str:
    """Return `code` upper-cased if it is an ISO 4217 currency Babel knows, else refuse it."""
    normal = code.strip().upper() if isinstance(code, str) else ""
    if normal not in _known_currencies():
        raise InvalidInputError(f"{code!r} is not an ISO 4217 currency code", field=field)
    return normal


@lru_cache(maxsize=512)
def minor_unit(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (USD 2, JPY 0, BHD 3)."""
    return int(get_currency_precision(validate_currency(currency)))


def quantize(amount: Decimal, places: int) -> Decimal:
    """Round `amount` half-up to `places` decimal places; `OutOfBoundsError` for an amount
    too large to hold that many places (``Decimal`` keeps 28 digits)."""
    try:
        return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise OutOfBoundsError(
            f"{amount} is too large to round to {places} places", field="amount"
        ) from None


def round_half_up(value: Fraction | Decimal, places: int) -> Decimal:
    """Round an exact value half-up (away from zero on a tie) to `places` decimal places.

    Proration computes with `Fraction` (16/31 of a month has no finite decimal), so this is
    the one rounding a prorated line gets. Exact whatever the size: no float and no
    `Decimal` context precision. Negative values round symmetrically, as `Money.round` does.

    >>> round_half_up(Fraction(800, 31), 2)   # 10 x $5 x 16/31 of January
    Decimal('25.81')
    >>> round_half_up(Fraction(-5, 2), 0), round_half_up(Decimal("0.125"), 2)
    (Decimal('-3'), Decimal('0.13'))
    """
    if isinstance(value, Decimal) and not value.is_finite():
        raise InvalidInputError("only a finite number can be rounded", field="value")
    scaled = Fraction(value) * Fraction(10) ** places
    magnitude = abs(scaled)
    # floor(|x| + 1/2) in integers: a tie goes up in magnitude, i.e. away from zero
    units = (2 * magnitude.numerator + magnitude.denominator) // (2 * magnitude.denominator)
    sign = "-" if scaled < 0 and units else ""
    return Decimal(f"{sign}{units}E{-places}")


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"money amounts are Decimal, int or str, not {type(value).__name__}")
    return Decimal(value)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Refuses to mix currencies and refuses floats."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        amount = _to_decimal(self.amount)
        if not amount.is_finite():
            raise InvalidInputError("a money amount must be a finite number", field="amount")
        if abs(amount) >= MAX_MONEY:
            raise OutOfBoundsError(
                f"{amount} is beyond the largest amount billstream keeps (< {MAX_MONEY:,})",
                field="amount",
            )
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "currency", validate_currency(self.currency))

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(_to_decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def total(cls, items: Iterable[Money], currency: str) -> Money:
        """Sum `items`, all in `currency`; the sum of nothing is zero."""
        result = cls.zero(currency)
        for item in items:
            result = result + item
        return result

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise InvalidInputError(
                f"cannot combine {self.currency} with {other.currency}", field="currency"
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * _to_decimal(factor), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def round(self, places: int | None = None) -> Money:
        """Round half-up to `places`, by default the currency's minor unit."""
        return Money(
            quantize(self.amount, minor_unit(self.currency) if places is None else places),
            self.currency,
        )

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def round_line(money: Money, places: int | None = None) -> Money:
    """The one rounding of a charge line priced in decimals (a one-time charge, a fee, a
    percentage): half-up to the tenant's line precision. Lines computed exactly elsewhere
    round through the same rule: prorated lines from a `Fraction` (`round_half_up`), usage
    from micro-units (`round_micros`)."""
    return money.round(places)


def tidy(amount: Decimal, currency: str) -> Decimal:
    """A stored amount with the currency's decimal places, and more only where they are
    significant: PostgreSQL's NUMERIC(28, 10) gives back ``25.8100000000``, this ``25.81``
    (and ``25.8065`` stays ``25.8065``), the same on both databases.

    >>> tidy(Decimal("25.8100000000"), "USD"), tidy(Decimal("25.8065000000"), "USD")
    (Decimal('25.81'), Decimal('25.8065'))
    """
    exponent = amount.normalize().as_tuple().exponent
    significant = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return amount.quantize(Decimal(1).scaleb(-max(minor_unit(currency), significant)))


def to_micros(amount: Decimal) -> int:
    """An exact amount in integer micro-units (1e-6), as rating stores money; ValueError if
    it has more than 6 decimal places (it would not be exact).

    >>> to_micros(Decimal("0.06")), to_micros(Decimal("1.000001"))
    (60000, 1000001)
    """
    micros = amount * 1_000_000
    if not micros.is_finite() or micros != micros.to_integral_value():
        raise ValueError(f"{amount} has more than 6 decimal places")
    return int(micros)


def round_micros(micros: int, places: int) -> Decimal:
    """Integer micro-units rounded once, half-up (away from zero on a tie), to `places`: the
    same as `round_half_up(Fraction(micros, 10**6), places)`, in integers (bill runs round a
    few hundred thousand usage lines).

    >>> round_micros(1_235_000, 2), round_micros(-1_235_000, 2), round_micros(1_234_999, 2)
    (Decimal('1.24'), Decimal('-1.24'), Decimal('1.23'))
    """
    if places >= 6:
        return Decimal(micros).scaleb(-6).quantize(Decimal(1).scaleb(-places))
    step = 10 ** (6 - places)
    units = (2 * abs(micros) + step) // (2 * step)
    return Decimal(-units if micros < 0 else units).scaleb(-places)
