"""Invoice assembly: what is due for a paying account, as one invoice. Pure.

Inputs are plain data loaded by the bill run for many accounts at once: the charges due
(recurring, credit, one-time and fee lines of the subscriptions, already rounded once by the
charge engine, `subscriptions.charges`), the usage aggregates of the rated records (per
sub-account, rating period, usage type and destination), what of each aggregate earlier
invoices already charged, and a `TaxCalculator`. The output is an `InvoiceDraft` whose total
is, always, the sum of its rounded lines plus the sum of its taxes. A line's amount is `Money`
in the invoice's currency, so a line of another currency cannot be summed into it; the draft's
totals are amounts in `InvoiceDraft.currency`, as the invoice row stores them.

Every line has a natural key (`line_key`). A recurring line's key names its subscription,
charge, period, span and source, so it is charged once whatever runs. A usage aggregate is
charged by difference: the rated total now, less what earlier invoices charged for it; after a
re-rating the difference is a `usage_correction` line with the next revision of the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from billstream.billing.taxes import TaxBase, TaxCalculator, TaxLine
from billstream.core.decimals import fixed_point
from billstream.core.money import Money, round_half_up, round_micros
from billstream.rating.allowances import Tier
from billstream.rating.rater import TIME_USAGE
from billstream.subscriptions.charges import LineKind


@dataclass(frozen=True, slots=True)
class Charge:
    """One line to invoice, its amount already rounded once (a unit price keeps its places)."""

    source_account_id: str
    kind: LineKind
    description: str
    line_key: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Money
    service_start: date | None = None
    service_end: date | None = None
    subscription_id: str | None = None
    charge: str | None = None
    usage_type: str | None = None
    destination: str | None = None
    lineage: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UsageAggregate:
    """The current rated records of one sub-account, rating period, usage type and
    destination: their count and sums (seconds or units, micro-units of money)."""

    source_account_id: str
    period_start: date
    period_end: date  # exclusive
    usage_type: str
    destination: str
    records: int
    quantity: int  # seconds for time usage, units otherwise
    billed: int  # billed seconds or units, after increments and allowance
    allowance: int  # seconds or units taken from the plan's included quantity
    amount_micros: int
    run_ids: tuple[str, ...]
    currency: str | None = None  # of the rating runs (their cards')
    invoiced: Decimal = Decimal(0)  # what earlier invoices charged for it
    revisions: int = 0  # how many lines earlier invoices had for it

    @property
    def base_key(self) -> str:
        return usage_key(
            self.source_account_id, self.period_start, self.usage_type, self.destination
        )


def usage_key(account_id: str, period_start: date, usage_type: str, destination: str) -> str:
    """The key of a usage aggregate; its lines' keys add their revision (``:0``, ``:1``…)."""
    return f"usage:{account_id}:{period_start.isoformat()}:{usage_type}:{destination}"


def usage_base_key(line_key: str) -> str:
    """The aggregate key of a usage line's key (its revision cut off)."""
    return line_key.rsplit(":", 1)[0]


@dataclass(frozen=True, slots=True)
class TierRow:
    from_quantity: int
    to_quantity: int | None
    rate_micros: int
    quantity: int


def tier_table(total: int, tiers: Sequence[Tier]) -> list[TierRow]:
    """How a period total spreads over graduated tiers, for the invoice's tier table.

    >>> [(r.from_quantity, r.to_quantity, r.quantity) for r in tier_table(
    ...     1500, [Tier(0, 60_000), Tier(900, 30_000)])]
    [(0, 900, 900), (900, None, 600)]
    """
    ordered = sorted(tiers, key=lambda t: t.from_quantity)
    uppers: list[int | None] = [t.from_quantity for t in ordered[1:]]
    uppers.append(None)
    rows = []
    for tier, upper in zip(ordered, uppers, strict=True):
        top = total if upper is None else min(total, upper)
        rows.append(
            TierRow(tier.from_quantity, upper, tier.rate_micros, max(top - tier.from_quantity, 0))
        )
    return rows


def usage_charges(
    aggregates: Sequence[UsageAggregate],
    *,
    currency: str,
    places: int,
    tiers: Mapping[str, Sequence[Tier]] | None = None,
    names: Mapping[str, str] | None = None,
) -> list[Charge]:
    """One line per aggregate whose rated total differs from what was invoiced for it.

    A first line is `usage`; later ones (after a re-rating) are `usage_correction` for the
    difference. Amounts are in `currency`, the paying account's (the caller checked that the
    aggregates' rating runs priced in it). `tiers` by usage type adds the tier table of the
    period total to the lineage.
    """
    totals: dict[tuple[str, date, str], int] = {}
    for agg in aggregates:
        key = (agg.source_account_id, agg.period_start, agg.usage_type)
        totals[key] = totals.get(key, 0) + agg.billed + agg.allowance
    charges = []
    for agg in aggregates:
        rated = round_micros(agg.amount_micros, places)
        amount = Money(rated - agg.invoiced, currency)
        if agg.revisions and amount.is_zero():
            continue
        per = 60 if agg.usage_type in TIME_USAGE else 1  # rates are per minute or per unit
        lineage: dict[str, Any] = {
            "unit": "second" if per == 60 else "unit",
            "records": agg.records,
            "quantity": agg.quantity,
            "billed": agg.billed,
            "allowance": agg.allowance,
            "rated_micros": agg.amount_micros,
            "rating_runs": list(agg.run_ids),
        }
        if agg.revisions:
            lineage["previously_invoiced"] = str(agg.invoiced)
        table = (tiers or {}).get(agg.usage_type)
        if table:
            total = totals[(agg.source_account_id, agg.period_start, agg.usage_type)]
            lineage["tiers"] = [
                {
                    "from": row.from_quantity,
                    "to": row.to_quantity,
                    "rate_micros": row.rate_micros,
                    "rate": fixed_point(Decimal(row.rate_micros).scaleb(-6).normalize()),
                    "quantity": row.quantity,
                    # what the tier's share of the period total comes to (for the table; the
                    # calls themselves were priced one by one)
                    "amount": str(
                        round_half_up(Fraction(row.quantity * row.rate_micros, per * 10**6), places)
                    ),
                }
                for row in tier_table(total, table)
            ]
        label = (names or {}).get(agg.usage_type, agg.usage_type.capitalize())
        charges.append(
            Charge(
                source_account_id=agg.source_account_id,
                kind=LineKind.USAGE_CORRECTION if agg.revisions else LineKind.USAGE,
                description=f"{label}: {agg.destination}"
                + (" (re-rated)" if agg.revisions else ""),
                line_key=f"{agg.base_key}:{agg.revisions}",
                quantity=Decimal(agg.quantity),
                unit_price=None,
                amount=amount,
                service_start=agg.period_start,
                service_end=agg.period_end,
                usage_type=agg.usage_type,
                destination=agg.destination,
                lineage=lineage,
            )
        )
    return charges


@dataclass(frozen=True, slots=True)
class DraftLine:
    position: int
    charge: Charge
    tax_jurisdiction: str | None


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    account_id: str
    currency: str
    period_start: date
    period_end: date
    lines: tuple[DraftLine, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Money  # each in `currency`: the sums of the lines, of the taxes, and of both
    tax_total: Money
    total: Money

    def sections(self) -> list[tuple[str, list[DraftLine]]]:
        """The lines grouped by the sub-account they come from, in line order."""
        grouped: dict[str, list[DraftLine]] = {}
        for line in self.lines:
            grouped.setdefault(line.charge.source_account_id, []).append(line)
        return list(grouped.items())


_KIND_ORDER = {kind: i for i, kind in enumerate(LineKind)}


def assemble_invoice(
    *,
    account_id: str,
    currency: str,
    period_start: date,
    period_end: date,
    charges: Sequence[Charge],
    source_order: Sequence[str],
    jurisdictions: Mapping[str, str | None],
    calculator: TaxCalculator,
    on: date,
    places: int,
) -> InvoiceDraft:
    """The invoice of `charges` for paying account `account_id`.

    Lines are grouped by sub-account in `source_order` (the payer first, then its tree in
    order), then by kind and service dates. A line's tax jurisdiction is its sub-account's
    (`jurisdictions`); taxes are computed on each jurisdiction's total of rounded lines.
    Every charge is in `currency` (`Money` refuses another).
    """
    rank = {source: i for i, source in enumerate(source_order)}
    ordered = sorted(
        charges,
        key=lambda c: (
            rank.get(c.source_account_id, len(rank)),
            c.source_account_id,
            _KIND_ORDER[c.kind],
            c.service_start or date.min,
            c.description,
            c.line_key,
        ),
    )
    lines = tuple(
        DraftLine(i, charge, jurisdictions.get(charge.source_account_id))
        for i, charge in enumerate(ordered, start=1)
    )
    bases: dict[str, Money] = {}
    for line in lines:
        if line.tax_jurisdiction is not None:
            base = bases.get(line.tax_jurisdiction)
            amount = line.charge.amount
            bases[line.tax_jurisdiction] = amount if base is None else base + amount
    taxes = tuple(
        calculator.taxes(
            [TaxBase(j, base.amount) for j, base in bases.items()], on=on, places=places
        )
    )
    subtotal = Money.total((line.charge.amount for line in lines), currency)
    tax_total = Money.total((Money(tax.amount, currency) for tax in taxes), currency)
    return InvoiceDraft(
        account_id=account_id,
        currency=currency,
        period_start=period_start,
        period_end=period_end,
        lines=lines,
        taxes=taxes,
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
    )
