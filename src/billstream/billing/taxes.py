"""Taxes of an invoice through a `TaxCalculator`, and the percentage-by-jurisdiction one. Pure.

A line's jurisdiction comes from the service address of the (sub-)account whose charge it
is: ``US-CA`` for a Californian address (country and region), ``GB`` for a British one. The
built-in calculator applies every rule of the jurisdiction and of its country (so ``US-CA``
takes a federal ``US`` rule and a state ``US-CA`` rule: several taxes on one line), each on
the jurisdiction's taxable total, rounded once, half-up. A full tax engine (SPEC C8) plugs in
behind the same protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol

from billstream.core.money import round_half_up


@dataclass(frozen=True, slots=True)
class TaxBase:
    """The taxable amount of one jurisdiction on one invoice (sum of its rounded lines)."""

    jurisdiction: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TaxLine:
    jurisdiction: str
    name: str
    rate: Decimal  # percent
    taxable: Decimal
    amount: Decimal  # rounded once
    rule_id: str | None


class TaxCalculator(Protocol):
    """Computes the taxes of an invoice from its taxable bases, on the invoice's date."""

    def taxes(self, bases: Sequence[TaxBase], *, on: date, places: int) -> list[TaxLine]: ...


@dataclass(frozen=True, slots=True)
class TaxRule:
    id: str
    jurisdiction: str  # "US", "US-CA", "GB"
    name: str
    rate: Decimal  # percent
    effective_from: date
    effective_to: date | None  # exclusive

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


class PercentageByJurisdiction:
    """Percent rules per jurisdiction; a subdivision also takes its country's rules.

    >>> rules = [TaxRule("r1", "US", "Federal", Decimal("1"), date(2026, 1, 1), None),
    ...          TaxRule("r2", "US-CA", "California", Decimal("7.25"), date(2026, 1, 1), None)]
    >>> calc = PercentageByJurisdiction(rules)
    >>> [(t.name, t.amount) for t in calc.taxes(
    ...     [TaxBase("US-CA", Decimal("100.10"))], on=date(2026, 2, 1), places=2)]
    [('Federal', Decimal('1.00')), ('California', Decimal('7.26'))]
    """

    def __init__(self, rules: Sequence[TaxRule]) -> None:
        self._rules: dict[str, list[TaxRule]] = {}
        for rule in rules:
            self._rules.setdefault(rule.jurisdiction, []).append(rule)

    def rules_for(self, jurisdiction: str, on: date) -> list[TaxRule]:
        country = jurisdiction.split("-", 1)[0]
        names = [country] if country == jurisdiction else [country, jurisdiction]
        return [r for name in names for r in self._rules.get(name, ()) if r.in_force(on)]

    def taxes(self, bases: Sequence[TaxBase], *, on: date, places: int) -> list[TaxLine]:
        lines: list[TaxLine] = []
        for base in sorted(bases, key=lambda b: b.jurisdiction):
            for rule in self.rules_for(base.jurisdiction, on):
                amount = round_half_up(Fraction(base.amount) * Fraction(rule.rate) / 100, places)
                lines.append(
                    TaxLine(base.jurisdiction, rule.name, rule.rate, base.amount, amount, rule.id)
                )
        return lines


def jurisdiction_of(address: Mapping[str, Any] | None) -> str | None:
    """``CC`` or ``CC-REGION`` (upper case) from an address; None without a country.

    >>> jurisdiction_of({"country": "us", "region": "ca"}), jurisdiction_of({"country": "GB"})
    ('US-CA', 'GB')
    """
    if not address or not address.get("country"):
        return None
    country = str(address["country"]).strip().upper()
    region = str(address.get("region") or "").strip().upper()
    return f"{country}-{region}" if region else country
