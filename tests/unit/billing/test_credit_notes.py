"""A credit note's arithmetic: what it may take back of an invoice's lines, and its taxes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billstream.billing.assembly import Charge, InvoiceDraft, assemble_invoice
from billstream.billing.credit_notes import (
    CreditableLine,
    CreditedInvoice,
    CreditRequest,
    credit_charges,
    credit_note,
)
from billstream.billing.errors import BillingErrorCode
from billstream.billing.taxes import PercentageByJurisdiction, TaxRule
from billstream.core.errors import InvalidInputError
from billstream.core.money import Money
from billstream.subscriptions.charges import LineKind

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
RULES = PercentageByJurisdiction(
    [
        TaxRule("fed", "US", "Federal", Decimal("1"), date(2020, 1, 1), None),
        TaxRule("ca", "US-CA", "California", Decimal("7.25"), date(2020, 1, 1), None),
        TaxRule("vat", "GB", "VAT", Decimal("20"), date(2026, 1, 1), None),
    ]
)
SOURCES = ("a", "b", "c")
JURISDICTIONS = {"a": "US-CA", "b": "GB", "c": None}


def usd(amount: str | Decimal) -> Money:
    return Money.of(amount, "USD")


def line(position: int, amount: str, credited: str = "0") -> CreditableLine:
    return CreditableLine(
        position, "a", f"line {position}", usd(amount), usd(credited), tax_jurisdiction="US-CA"
    )


def invoice_of(*lines: CreditableLine) -> CreditedInvoice:
    return CreditedInvoice("inv_1", "INV-1", "a", "USD", JAN, FEB, FEB, lines)


def refusal(invoice: CreditedInvoice, *requests: CreditRequest) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as raised:
        credit_charges(invoice, list(requests), note=1, places=2)
    return raised.value


def test_a_line_is_credited_up_to_what_earlier_notes_left_of_it() -> None:
    # given a line of 50.00 of which an earlier note took back 20.00
    invoice = invoice_of(line(1, "50.00", credited="20.00"))

    # when 30.00 is taken back, then it is one correction line of -30.00
    [charge] = credit_charges(invoice, [CreditRequest(1, Decimal("30.00"))], note=2, places=2)
    assert (charge.kind, charge.amount, charge.unit_price, charge.quantity) == (
        LineKind.CORRECTION,
        usd("-30.00"),
        Decimal("30.00"),
        Decimal(-1),
    )
    assert (charge.line_key, charge.lineage) == ("credit:inv_1:2:1", {"corrects_position": 1})

    # and 30.01 is refused, naming what is left
    error = refusal(invoice, CreditRequest(1, Decimal("30.01")))
    assert (error.code, error.field) == (BillingErrorCode.CREDIT_EXCEEDS, "lines[0].amount")
    assert error.detail == "line 1 has 30.00 left to credit, not 30.01"


def test_a_credit_line_is_taken_back_toward_zero_only() -> None:
    # given a line that credited 10.00 (a downgrade)
    invoice = invoice_of(line(1, "-10.00"))

    # then it can be taken back by -4.00, not by 4.00 nor by -10.01
    [charge] = credit_charges(invoice, [CreditRequest(1, Decimal("-4.00"))], note=1, places=2)
    assert charge.amount == usd("4.00")
    for amount in ("4.00", "-10.01"):
        assert refusal(invoice, CreditRequest(1, Decimal(amount))).code == (
            BillingErrorCode.CREDIT_EXCEEDS
        )


def test_a_request_naming_no_line_or_too_many_places_is_refused_at_its_field() -> None:
    invoice = invoice_of(line(1, "50.00"), line(2, "5.00"))
    assert refusal(invoice, CreditRequest(1), CreditRequest(3)).field == "lines[1].position"
    twice = [CreditRequest(1, Decimal(30)), CreditRequest(1, Decimal(30))]  # 60 of 50
    error = refusal(invoice, *twice)
    assert (error.field, error.detail) == (
        "lines[1].position",
        "line 1 is listed twice: list it once, with the sum",
    )
    error = refusal(invoice, CreditRequest(2, Decimal("1.005")))
    assert (error.field, error.detail) == (
        "lines[0].amount",
        "an amount has at most 2 decimal places",
    )


def test_a_full_credit_skips_lines_already_credited_and_refuses_when_nothing_is_left() -> None:
    # given an invoice whose first line was credited in full
    invoice = invoice_of(line(1, "50.00", credited="50.00"), line(2, "5.00"))

    # when everything left is credited, then only the second line is
    charges = credit_charges(invoice, None, note=2, places=2)
    assert [(c.line_key, c.amount) for c in charges] == [("credit:inv_1:2:2", usd("-5.00"))]

    # and once that is credited too, nothing is left
    done = invoice_of(line(1, "50.00", credited="50.00"), line(2, "5.00", credited="5.00"))
    error = refusal(done)
    assert (error.field, error.detail) == ("lines", "nothing is left to credit on this invoice")
    with pytest.raises(InvalidInputError):
        credit_charges(done, None, note=3, places=2)


# --- properties --------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("-500"), max_value=Decimal("5000"), places=2)
invoice_lines = st.lists(st.tuples(st.sampled_from(SOURCES), amounts), min_size=1, max_size=12)


def issued(items: list[tuple[str, Decimal]]) -> tuple[InvoiceDraft, CreditedInvoice]:
    """An invoice of `items` (sub-account, amount) as assembled, and as a credit note reads
    it."""
    draft = assemble_invoice(
        account_id="a",
        currency="USD",
        period_start=JAN,
        period_end=FEB,
        charges=[
            Charge(s, LineKind.RECURRING, f"line {i}", f"k{i}", Decimal(1), a, usd(a))
            for i, (s, a) in enumerate(items)
        ],
        source_order=list(SOURCES),
        jurisdictions=JURISDICTIONS,
        calculator=RULES,
        on=FEB,
        places=2,
    )
    lines = tuple(
        CreditableLine(
            x.position,
            x.charge.source_account_id,
            x.charge.description,
            x.charge.amount,
            usd(0),
            x.tax_jurisdiction,
        )
        for x in draft.lines
    )
    return draft, CreditedInvoice("inv", "INV-1", "a", "USD", JAN, FEB, FEB, lines)


def note_of(invoice: CreditedInvoice, requests: list[CreditRequest] | None) -> InvoiceDraft:
    return credit_note(invoice, requests, note=1, places=2, calculator=RULES, on=date(2026, 3, 1))


def with_note(invoice: CreditedInvoice, note: InvoiceDraft) -> CreditedInvoice:
    """`invoice` after `note`: what each line has had taken back grows by its credit."""
    taken: dict[int, Money] = {}
    for x in note.lines:
        position = int(x.charge.lineage["corrects_position"])
        taken[position] = taken.get(position, usd(0)) - x.charge.amount
    return replace(
        invoice,
        lines=tuple(
            replace(x, credited=x.credited + taken.get(x.position, usd(0))) for x in invoice.lines
        ),
    )


@given(invoice_lines)
def test_a_full_credit_note_is_the_invoice_negated(items: list[tuple[str, Decimal]]) -> None:
    # given an issued invoice
    draft, invoice = issued(items)
    if all(x.amount.is_zero() for x in invoice.lines):
        with pytest.raises(InvalidInputError):
            note_of(invoice, None)
        return

    # when all of it is credited
    note = note_of(invoice, None)

    # then each non-zero line is taken back in full, and its taxes and totals are negated
    assert [(int(x.charge.lineage["corrects_position"]), -x.charge.amount) for x in note.lines] == [
        (x.position, x.amount) for x in invoice.lines if not x.amount.is_zero()
    ]
    assert (note.subtotal, note.tax_total, note.total) == (
        -draft.subtotal,
        -draft.tax_total,
        -draft.total,
    )
    assert {(t.jurisdiction, t.name): -t.amount for t in note.taxes if t.amount} == {
        (t.jurisdiction, t.name): t.amount for t in draft.taxes if t.amount
    }


def refused(invoice: CreditedInvoice, wanted: list[tuple[int, Decimal | None]]) -> bool:
    """Whether a note of `wanted` (position, amount) must be refused, checked line by line."""
    lines = {x.position: x for x in invoice.lines}
    positions = [p for p, _ in wanted]
    return any(
        p not in lines or p in positions[:i] or (a is not None and not lines[p].takes(usd(a)))
        for i, (p, a) in enumerate(wanted)
    )


partial_requests = st.lists(
    st.tuples(st.integers(1, 12), st.none() | amounts), min_size=1, max_size=4
)


@given(invoice_lines, st.lists(partial_requests, max_size=5))
def test_credits_never_exceed_what_is_left_and_all_notes_together_take_back_the_invoice(
    items: list[tuple[str, Decimal]], notes: list[list[tuple[int, Decimal | None]]]
) -> None:
    # given an issued invoice
    draft, invoice = issued(items)
    original = {x.position: x.amount for x in invoice.lines}

    # when credit notes of random requests are asked for, one after the other
    for wanted in notes:
        requests = [CreditRequest(p, a) for p, a in wanted]
        if refused(invoice, wanted):
            # then one asking for a missing line, a line twice or more than is left is refused
            with pytest.raises(InvalidInputError):
                note_of(invoice, requests)
            continue
        note = note_of(invoice, requests)
        # and an accepted note's totals are its lines plus its taxes
        assert note.subtotal.amount == sum(x.charge.amount.amount for x in note.lines)
        assert note.total.amount == note.subtotal.amount + sum(t.amount for t in note.taxes)
        invoice = with_note(invoice, note)
        # and no line was ever credited past zero or to the other side of it
        for x in invoice.lines:
            low, high = sorted((Decimal(0), original[x.position].amount))
            assert low <= x.credited.amount <= high

    # when what is left is credited
    if any(not x.left.is_zero() for x in invoice.lines):
        invoice = with_note(invoice, note_of(invoice, None))

    # then the notes together took back exactly each line: money is conserved
    assert all(x.credited == original[x.position] for x in invoice.lines)
    assert sum(x.credited.amount for x in invoice.lines) == draft.subtotal.amount
    with pytest.raises(InvalidInputError):
        note_of(invoice, None)


@given(invoice_lines, st.data())
def test_a_notes_taxes_are_those_of_what_it_takes_back(
    items: list[tuple[str, Decimal]], data: st.DataObject
) -> None:
    # given an issued invoice, and a part of each line
    _, invoice = issued(items)
    requests = [
        CreditRequest(x.position, data.draw(st.sampled_from([Decimal(0), x.amount.amount])))
        for x in invoice.lines
    ]

    # when the parts are credited
    note = note_of(invoice, requests)

    # then each jurisdiction is taxed once, half-up, on the sum of what the note takes back
    taken: dict[str, Decimal] = {}
    for x in note.lines:
        jurisdiction = JURISDICTIONS[x.charge.source_account_id]
        if jurisdiction is not None:
            taken[jurisdiction] = taken.get(jurisdiction, Decimal(0)) + x.charge.amount.amount
    assert {t.jurisdiction: t.taxable for t in note.taxes} == {
        j: amount for j, amount in taken.items() if RULES.rules_for(j, FEB)
    }
    for tax in note.taxes:
        assert abs(tax.amount - tax.taxable * tax.rate / 100) <= Decimal("0.005")
    assert note.tax_total.amount == sum(t.amount for t in note.taxes)
