"""A credit note's arithmetic: what it takes back of an invoice's lines, and its taxes. Pure.

A credit note corrects an issued invoice without changing it: each of its lines takes back
some or all of one invoice line, never more than is left of that line after the invoice's
earlier credit notes, and never the other way round (a charge is credited down to zero, a
credit line up to zero). Its taxes are computed as an invoice's are, on what it takes back,
with the rules in force on the invoice's issue date, so a note that takes back every line in
full has the invoice's taxes and total, negated.

The service reads the invoice (`CreditedInvoice`), calls `credit_note`, and writes the draft
it returns as a credit note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billstream.billing.assembly import Charge, InvoiceDraft, assemble_invoice
from billstream.billing.errors import BillingErrorCode
from billstream.billing.taxes import TaxCalculator
from billstream.core.errors import InvalidInputError
from billstream.core.money import Money, tidy
from billstream.subscriptions.charges import LineKind


@dataclass(frozen=True, slots=True)
class CreditRequest:
    """Take back `amount` of the invoice line at `position` (all that is left when None)."""

    position: int
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CreditableLine:
    """A line of the invoice, and how much of it earlier credit notes took back (`credited`:
    of the line's sign, zero if none did)."""

    position: int
    source_account_id: str
    description: str
    amount: Money
    credited: Money
    tax_jurisdiction: str | None = None
    service_start: date | None = None
    service_end: date | None = None
    subscription_id: str | None = None
    charge: str | None = None
    usage_type: str | None = None
    destination: str | None = None

    @property
    def left(self) -> Money:
        """What is left to credit, spelled with the currency's places (and more only where
        they are significant)."""
        rest = self.amount - self.credited
        return Money(tidy(rest.amount, rest.currency), rest.currency)

    def takes(self, amount: Money) -> bool:
        """Whether a credit of `amount` stays between zero and what is left, on the line's
        side of zero."""
        zero = Money.zero(amount.currency)
        if self.amount.amount >= 0:
            return zero <= amount <= self.left
        return self.left <= amount <= zero


@dataclass(frozen=True, slots=True)
class CreditedInvoice:
    """The invoice a credit note corrects: what the note copies and what bounds it."""

    id: str
    number: str | None
    account_id: str
    currency: str
    period_start: date
    period_end: date
    issue_date: date | None
    lines: tuple[CreditableLine, ...]


def credit_charges(
    invoice: CreditedInvoice,
    requests: Sequence[CreditRequest] | None,
    *,
    note: int,
    places: int,
) -> list[Charge]:
    """The lines of the invoice's `note`-th credit note: one `correction` line per request
    (or, without requests, per invoice line with something left), with the negated amount.

    Refused (`InvalidInputError`, naming the request's field): a position the invoice has
    not, or one listed twice (each would be checked against the same rest), an amount with
    more than `places` decimal places, an amount beyond what is left of the line
    (`CREDIT_EXCEEDS`), and a note that would take nothing back.

    >>> line = CreditableLine(1, "acc", "Pro plan", Money.of("50.00", "USD"),
    ...                       Money.of("20.00", "USD"), "US")
    >>> invoice = CreditedInvoice("inv_1", "INV-1", "acc", "USD", date(2026, 1, 1),
    ...                           date(2026, 2, 1), date(2026, 2, 1), (line,))
    >>> [(c.description, str(c.amount)) for c in credit_charges(invoice, None, note=2, places=2)]
    [('Credit: Pro plan', '-30.00 USD')]
    """
    by_position = {line.position: line for line in invoice.lines}
    wanted = requests if requests is not None else [CreditRequest(p) for p in sorted(by_position)]
    charges = []
    seen: set[int] = set()
    for i, request in enumerate(wanted):
        line = by_position.get(request.position)
        if line is None:
            raise InvalidInputError(
                f"invoice {invoice.number} has no line {request.position}",
                field=f"lines[{i}].position",
            )
        if request.position in seen:
            raise InvalidInputError(
                f"line {request.position} is listed twice: list it once, with the sum",
                field=f"lines[{i}].position",
            )
        seen.add(request.position)
        amount = _amount(line, request, invoice.currency, places, field=f"lines[{i}].amount")
        if amount.is_zero() and requests is None:
            continue
        charges.append(_correction(invoice.id, note, line, amount))
    if not charges:
        raise InvalidInputError("nothing is left to credit on this invoice", field="lines")
    return charges


def _amount(
    line: CreditableLine, request: CreditRequest, currency: str, places: int, *, field: str
) -> Money:
    """The amount `request` takes back of `line`, checked against what is left of it."""
    left = line.left
    amount = left if request.amount is None else Money(request.amount, currency)
    exponent = tidy(amount.amount, currency).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise InvalidInputError(f"an amount has at most {places} decimal places", field=field)
    if not line.takes(amount):
        raise InvalidInputError(
            f"line {line.position} has {left.amount} left to credit, not {amount.amount}",
            code=BillingErrorCode.CREDIT_EXCEEDS,
            field=field,
        )
    return amount


def _correction(invoice_id: str, note: int, line: CreditableLine, amount: Money) -> Charge:
    return Charge(
        source_account_id=line.source_account_id,
        kind=LineKind.CORRECTION,
        description=f"Credit: {line.description}",
        line_key=f"credit:{invoice_id}:{note}:{line.position}",
        quantity=Decimal(-1),
        unit_price=amount.amount,
        amount=-amount,
        service_start=line.service_start,
        service_end=line.service_end,
        subscription_id=line.subscription_id,
        charge=line.charge,
        usage_type=line.usage_type,
        destination=line.destination,
        lineage={"corrects_position": line.position},
    )


def credit_note(
    invoice: CreditedInvoice,
    requests: Sequence[CreditRequest] | None,
    *,
    note: int,
    places: int,
    calculator: TaxCalculator,
    on: date,
) -> InvoiceDraft:
    """The `note`-th credit note of `invoice` for `requests` (every line's rest when None):
    its lines (`credit_charges`) assembled as an invoice, taxed in each line's jurisdiction on
    the invoice's issue date (`on`, the note's date, for an invoice without one)."""
    charges = credit_charges(invoice, requests, note=note, places=places)
    return assemble_invoice(
        account_id=invoice.account_id,
        currency=invoice.currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        charges=charges,
        source_order=[],
        jurisdictions={line.source_account_id: line.tax_jurisdiction for line in invoice.lines},
        calculator=calculator,
        on=invoice.issue_date or on,
        places=places,
    )
