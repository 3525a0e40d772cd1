"""The invoice document as a pure value: Babel formats, hierarchy sections, usage and tiers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billstream.documents.view import (
    AccountRecord,
    Brand,
    InvoiceRecord,
    LineRecord,
    TaxRecord,
    address_lines,
    brand_of,
    build_invoice_document,
    day,
    document_locale,
    hierarchy_order,
    minutes,
    money,
    span,
)
from billstream.tenants.settings import Branding

BRAND = Brand("Northwind", ("1 High St",), None, "#123456", "#abcdef", "Thanks")


def invoice(currency: str = "GBP", **overrides: object) -> InvoiceRecord:
    fields: dict[str, object] = {
        "id": "inv_1",
        "account_id": "abc",
        "kind": "invoice",
        "number": "INV-2026-000042",
        "status": "issued",
        "currency": currency,
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 2, 1),
        "issue_date": date(2026, 2, 1),
        "due_date": date(2026, 2, 15),
        "subtotal": Decimal("1234.50"),
        "tax_total": Decimal("246.90"),
        "total": Decimal("1481.40"),
        "amount_paid": Decimal("0"),
    }
    fields.update(overrides)
    return InvoiceRecord(**fields)  # type: ignore[arg-type]


def line(position: int, account: str, amount: str, **overrides: object) -> LineRecord:
    fields: dict[str, object] = {
        "position": position,
        "source_account_id": account,
        "kind": "recurring",
        "description": f"Line {position}",
        "service_start": date(2026, 1, 1),
        "service_end": date(2026, 2, 1),
        "quantity": Decimal(1),
        "unit_price": Decimal(amount),
        "amount": Decimal(amount),
    }
    fields.update(overrides)
    return LineRecord(**fields)  # type: ignore[arg-type]


TREE = {
    "abc": AccountRecord("abc", "Org ABC", None, "ap@abc.example", {"line1": "1 Main St"}),
    "support": AccountRecord("support", "Support", "abc"),
    "hr": AccountRecord("hr", "HR", "abc"),
    "tier1": AccountRecord("tier1", "Tier 1", "support"),
}


@pytest.mark.parametrize(
    ("locale", "currency", "amount", "date_text"),
    [
        ("en_US", "USD", "$1,234.50", "Jan 31, 2026"),
        ("en_GB", "GBP", "£1,234.50", "31 Jan 2026"),
        ("en_SG", "SGD", "$1,234.50", "31 Jan 2026"),
    ],
)
def test_money_and_dates_follow_the_locale(
    locale: str, currency: str, amount: str, date_text: str
) -> None:
    # given an amount and a date, when formatted in the locale, then Babel's formats
    assert money(Decimal("1234.5"), currency, locale) == amount
    assert day(date(2026, 1, 31), locale) == date_text


def test_a_period_shows_its_last_day_not_the_exclusive_end() -> None:
    assert span(date(2026, 1, 1), date(2026, 2, 1), "en_GB") == "1 Jan 2026 \u2013 31 Jan 2026"


def test_the_document_locale_is_the_account_language_else_the_tenant_locale() -> None:
    assert document_locale("en_SG", "en_GB") == "en_SG"
    assert document_locale(None, "en_GB") == "en_GB"
    assert document_locale("not-a-locale", "en_GB") == "en_GB"


def test_a_document_in_en_gb_formats_every_figure_in_pounds() -> None:
    # given an invoice with two lines and a 20 % VAT
    lines = [line(1, "abc", "1000.00"), line(2, "abc", "234.50")]
    taxes = [TaxRecord(1, "GB", "VAT", Decimal(20), Decimal("1234.50"), Decimal("246.90"))]

    # when built in en_GB
    doc = build_invoice_document(
        invoice(), lines=lines, taxes=taxes, accounts=TREE, brand=BRAND, locale="en_GB"
    )

    # then totals, lines, taxes and dates read as a British customer expects
    assert (doc.totals.subtotal, doc.totals.tax_total, doc.totals.total) == (
        "£1,234.50",
        "£246.90",
        "£1,481.40",
    )
    assert doc.totals.amount_due == "£1,481.40"
    assert [x.amount for x in doc.sections[0].lines] == ["£1,000.00", "£234.50"]
    assert (doc.taxes[0].rate, doc.taxes[0].amount) == ("20%", "£246.90")
    assert (doc.issue_date, doc.due_date) == ("1 Feb 2026", "15 Feb 2026")
    assert doc.payer.address_lines == ("1 Main St",)
    assert doc.title == "Invoice"


def test_sections_follow_the_hierarchy_depth_first_with_subtotals() -> None:
    # given lines of the payer and of sub-accounts, listed out of order
    lines = [
        line(1, "tier1", "3.00"),
        line(2, "abc", "10.00"),
        line(3, "hr", "2.00"),
        line(4, "tier1", "4.00"),
    ]

    # when the document is built
    doc = build_invoice_document(
        invoice("USD"), lines=lines, taxes=[], accounts=TREE, brand=BRAND, locale="en_US"
    )

    # then the payer first, then its children by name, each child's subtree under it; the
    # support account has no lines of its own and no section
    assert [(s.account_name, s.depth) for s in doc.sections] == [
        ("Org ABC", 0),
        ("HR", 1),
        ("Tier 1", 2),
    ]
    assert doc.sections[2].path == "Org ABC \u203a Support \u203a Tier 1"
    assert [s.subtotal for s in doc.sections] == ["$10.00", "$2.00", "$7.00"]
    assert sum(s.subtotal_value for s in doc.sections) == Decimal("19.00")


def test_hierarchy_order_is_depth_first_by_name() -> None:
    assert hierarchy_order("abc", TREE) == [("abc", 0), ("hr", 1), ("support", 1), ("tier1", 2)]


def test_usage_lines_give_a_usage_summary_and_a_tier_table() -> None:
    # given a usage line whose lineage holds two tiers
    lineage = {  # as the bill run writes it: seconds, a tier table on the period total
        "unit": "second",
        "records": 1250,
        "billed": 90_090,
        "allowance": 6000,
        "tiers": [
            {"from": 0, "rate": "0.05", "quantity": 60_000, "amount": "50.00"},
            {"from": 60_000, "rate": "0.0125", "quantity": 24_090, "amount": "5.02"},
        ],
    }
    usage = line(
        1,
        "abc",
        "55.02",
        kind="usage",
        description="Calls to UK mobiles",
        usage_type="voice",
        destination="UK Mobile",
        quantity=Decimal("1401.5"),
        unit_price=None,
        lineage=lineage,
    )

    # when built in en_US
    doc = build_invoice_document(
        invoice("USD"), lines=[usage], taxes=[], accounts=TREE, brand=BRAND, locale="en_US"
    )

    # then the usage summary shows records and minutes, and the tiers their rates
    [row] = doc.sections[0].usage
    assert (row.records, row.billed_minutes, row.included_minutes, row.amount) == (
        "1,250",
        "1,501.5",
        "100",
        "$55.02",
    )
    assert [(t.start, t.quantity, t.rate, t.amount) for t in row.tiers] == [
        ("0", "1,000", "$0.05", "$50.00"),
        ("1,000", "401.5", "$0.0125", "$5.02"),
    ]
    assert doc.sections[0].lines[0].unit_price == ""


def test_minutes_are_exact_to_two_places() -> None:
    assert minutes(90, "en_US") == "1.5"
    assert minutes(61, "en_US") == "1.02"


def test_a_credit_note_names_what_it_corrects_and_a_draft_has_no_number() -> None:
    credit = invoice(kind="credit_note", corrects_number="INV-2026-000041", reason="overcharge")
    doc = build_invoice_document(credit, lines=[], taxes=[], accounts=TREE, brand=BRAND,
                                 locale="en_GB")  # fmt: skip
    assert (doc.title, doc.corrects_number, doc.reason) == (
        "Credit note",
        "INV-2026-000041",
        "overcharge",
    )
    draft = build_invoice_document(invoice(number=None, status="draft"), lines=[], taxes=[],
                                   accounts=TREE, brand=BRAND, locale="en_GB")  # fmt: skip
    assert draft.number == "DRAFT"


def test_branding_falls_back_to_the_tenant_name_and_default_colours() -> None:
    brand = brand_of(
        Branding(address="1 High St\nLondon\n"), tenant_name="Northwind", logo_src=None
    )
    assert (brand.name, brand.address_lines) == ("Northwind", ("1 High St", "London"))
    assert brand.primary_color.startswith("#")


def test_an_address_prints_town_region_and_postcode_on_one_line() -> None:
    address = {"line1": "1 Main St", "city": "Springfield", "region": "IL", "postcode": "62701",
               "country": "US"}  # fmt: skip
    assert address_lines(address) == ("1 Main St", "Springfield IL 62701", "US")
