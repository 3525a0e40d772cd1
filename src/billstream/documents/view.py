"""What an invoice document shows, as one frozen value built by a pure function.

`build_invoice_document` turns the invoice's rows (as plain records), the payer's account
tree, the brand and the locale into an `InvoiceDocument`: every figure already formatted
with Babel in the document's locale, the lines grouped into one section per (sub-)account in
hierarchy order, usage summaries and tier tables read from each usage line's lineage. The
templates only lay it out; no arithmetic happens in a template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from billstream.tenants.settings import Branding

USAGE_KINDS = frozenset({"usage", "usage_correction"})
DEFAULT_PRIMARY = "#1f3a5f"
DEFAULT_ACCENT = "#e8eef5"
SECONDS_PER_MINUTE = Decimal(60)
PERIOD_DASH = " \u2013 "  # an en dash
PATH_SEPARATOR = " \u203a "  # a single right-pointing angle quote


# --- what goes in --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An account of the payer's tree: who it is and where it hangs."""

    id: str
    name: str
    parent_id: str | None
    email: str | None = None
    billing_address: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LineRecord:
    position: int
    source_account_id: str
    kind: str
    description: str
    service_start: date | None
    service_end: date | None  # exclusive
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    usage_type: str | None = None
    destination: str | None = None
    lineage: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TaxRecord:
    position: int
    jurisdiction: str
    name: str
    rate: Decimal  # percent
    taxable: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    id: str
    account_id: str
    kind: str  # invoice | credit_note
    number: str | None
    status: str
    currency: str
    period_start: date
    period_end: date  # exclusive
    issue_date: date | None
    due_date: date | None
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    reason: str | None = None
    corrects_number: str | None = None


# --- what comes out ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    address_lines: tuple[str, ...]
    logo_src: str | None  # a file: or data: URI, or None (never fetched over the network)
    primary_color: str
    accent_color: str
    footer: str | None


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    email: str | None
    address_lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    kind: str
    period: str  # "1 Jan 2026 - 31 Jan 2026" (an en dash), or ""
    quantity: str
    unit_price: str  # "" when the line has none
    amount: str
    amount_value: Decimal


@dataclass(frozen=True, slots=True)
class TierRow:
    start: str  # where the tier starts
    quantity: str
    rate: str
    amount: str


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One usage line summarised: type, destination, records, minutes, and its tiers."""

    description: str
    usage_type: str
    destination: str
    records: str
    billed_minutes: str
    included_minutes: str
    amount: str
    tiers: tuple[TierRow, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """The lines of one (sub-)account; `depth` 0 is the paying account itself."""

    account_id: str
    account_name: str
    path: str  # "Org ABC / Support / Tier 1", joined by PATH_SEPARATOR
    depth: int
    lines: tuple[DocumentLine, ...]
    usage: tuple[UsageRow, ...]
    subtotal: str
    subtotal_value: Decimal


@dataclass(frozen=True, slots=True)
class TaxRow:
    name: str
    jurisdiction: str
    rate: str
    taxable: str
    amount: str


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: str
    tax_total: str
    total: str
    amount_paid: str
    amount_due: str
    total_value: Decimal
    amount_due_value: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """Everything an invoice, credit note or receipt template shows, formatted."""

    invoice_id: str
    kind: str  # invoice | credit_note
    title: str  # "Invoice", "Credit note"
    status: str
    number: str  # "DRAFT" before the invoice is issued
    currency: str
    locale: str
    brand: Brand
    payer: Party
    issue_date: str
    due_date: str
    period: str
    sections: tuple[Section, ...]
    taxes: tuple[TaxRow, ...]
    totals: Totals
    corrects_number: str | None
    reason: str | None
    is_paid: bool
    line_count: int


# --- formatting ----------------------------------------------------------------------------


def document_locale(language: str | None, tenant_locale: str) -> str:
    """The locale a customer's documents use: the account's language, else the tenant's."""
    for candidate in (language, tenant_locale):
        if candidate:
            try:
                return str(Locale.parse(candidate))
            except (ValueError, UnknownLocaleError):
                continue
    return "en_US"


def money(amount: Decimal, currency: str, locale: str) -> str:
    """An amount in the locale's currency format: ``$1,234.50``, ``£1,234.50``, ``S$12.00``."""
    return str(format_currency(amount, currency, locale=locale))


def rate(amount: Decimal, currency: str, locale: str) -> str:
    """A unit price or rate with all its places (``$0.0125``), at least the currency's."""
    return str(format_currency(amount, currency, locale=locale, decimal_quantization=False))


def number(value: Decimal | int, locale: str) -> str:
    return str(format_decimal(value, locale=locale, decimal_quantization=False))


def day(value: date | None, locale: str) -> str:
    """A date in the locale's medium format: ``Jan 31, 2026`` (en_US), ``31 Jan 2026`` (en_GB)."""
    return "" if value is None else str(format_date(value, format="medium", locale=locale))


def span(start: date | None, end: date | None, locale: str) -> str:
    """A half-open period shown with its last day: ``[Jan 1, Feb 1)`` → ``Jan 1 - Jan 31``."""
    if start is None or end is None:
        return ""
    last = end - timedelta(days=1) if end > start else end
    return f"{day(start, locale)}{PERIOD_DASH}{day(last, locale)}"


def percent(value: Decimal, locale: str) -> str:
    return str(format_percent(value / 100, locale=locale, decimal_quantization=False))


def minutes(seconds: Decimal | int, locale: str) -> str:
    """Seconds as minutes, exact to two places: 90 → ``1.5``."""
    exact = (Decimal(seconds) / SECONDS_PER_MINUTE).quantize(Decimal("0.01"))
    return str(format_decimal(exact, format="#,##0.##", locale=locale))


# --- the account tree ----------------------------------------------------------------------


def hierarchy_order(payer_id: str, accounts: Mapping[str, AccountRecord]) -> list[tuple[str, int]]:
    """The payer's tree depth-first, children by name then id: ``[(account_id, depth)]``.

    >>> tree = {
    ...     "abc": AccountRecord("abc", "Org ABC", None),
    ...     "s": AccountRecord("s", "Support", "abc"),
    ...     "h": AccountRecord("h", "HR", "abc"),
    ...     "t": AccountRecord("t", "Tier 1", "s"),
    ... }
    >>> hierarchy_order("abc", tree)
    [('abc', 0), ('h', 1), ('s', 1), ('t', 2)]
    """
    children: dict[str, list[AccountRecord]] = {}
    for account in accounts.values():
        if account.parent_id is not None and account.id != payer_id:
            children.setdefault(account.parent_id, []).append(account)
    order: list[tuple[str, int]] = []
    stack = [(payer_id, 0)]
    seen: set[str] = set()
    while stack:
        account_id, depth = stack.pop()
        if account_id in seen:
            continue
        seen.add(account_id)
        order.append((account_id, depth))
        kids = sorted(children.get(account_id, []), key=lambda a: (a.name, a.id))
        stack.extend((kid.id, depth + 1) for kid in reversed(kids))
    return order


def _path(account_id: str, payer_id: str, accounts: Mapping[str, AccountRecord]) -> str:
    names: list[str] = []
    current: str | None = account_id
    while current is not None and current in accounts and len(names) < len(accounts):
        names.append(accounts[current].name)
        current = None if current == payer_id else accounts[current].parent_id
    return PATH_SEPARATOR.join(reversed(names))


# --- building ------------------------------------------------------------------------------


def address_lines(address: Mapping[str, Any] | None) -> tuple[str, ...]:
    """A billing address (line1, line2, city, region, postcode, country) as printed lines."""
    if not address:
        return ()
    town = " ".join(
        str(address[k]) for k in ("city", "region", "postcode") if address.get(k)
    ).strip()
    parts = [address.get("line1"), address.get("line2"), town, address.get("country")]
    return tuple(str(p) for p in parts if p)


def brand_of(branding: Branding, *, tenant_name: str, logo_src: str | None) -> Brand:
    address = tuple(line.strip() for line in (branding.address or "").splitlines() if line.strip())
    return Brand(
        name=branding.name or tenant_name,
        address_lines=address,
        logo_src=logo_src,
        primary_color=branding.primary_color or DEFAULT_PRIMARY,
        accent_color=branding.accent_color or DEFAULT_ACCENT,
        footer=branding.footer,
    )


def _tiers(lineage: Mapping[str, Any], currency: str, locale: str) -> tuple[TierRow, ...]:
    rows = []
    for tier in lineage.get("tiers") or ():
        rows.append(
            TierRow(
                start=_usage_quantity(tier.get("from"), lineage, locale),
                quantity=_usage_quantity(tier.get("quantity"), lineage, locale),
                rate=rate(Decimal(str(tier.get("rate", 0))), currency, locale),
                amount=money(Decimal(str(tier.get("amount", 0))), currency, locale),
            )
        )
    return tuple(rows)


def _usage_quantity(value: object, lineage: Mapping[str, Any], locale: str) -> str:
    """A usage quantity of the bill run's lineage: minutes for time usage (counted in
    seconds), units otherwise (SMS, data)."""
    amount = Decimal(str(value or 0))
    return minutes(amount, locale) if lineage.get("unit") == "second" else number(amount, locale)


def _usage_row(line: LineRecord, currency: str, locale: str) -> UsageRow:
    lineage = line.lineage
    return UsageRow(
        description=line.description,
        usage_type=line.usage_type or "",
        destination=line.destination or "",
        records=number(int(lineage.get("records", 0)), locale),
        billed_minutes=_usage_quantity(lineage.get("billed"), lineage, locale),
        included_minutes=_usage_quantity(lineage.get("allowance"), lineage, locale),
        amount=money(line.amount, currency, locale),
        tiers=_tiers(lineage, currency, locale),
    )


def _line(line: LineRecord, currency: str, locale: str) -> DocumentLine:
    return DocumentLine(
        description=line.description,
        kind=line.kind,
        period=span(line.service_start, line.service_end, locale),
        quantity=_usage_quantity(line.quantity, line.lineage, locale)
        if line.usage_type
        else number(line.quantity.normalize(), locale),
        unit_price="" if line.unit_price is None else rate(line.unit_price, currency, locale),
        amount=money(line.amount, currency, locale),
        amount_value=line.amount,
    )


def build_sections(
    payer_id: str,
    lines: Sequence[LineRecord],
    accounts: Mapping[str, AccountRecord],
    *,
    currency: str,
    locale: str,
) -> tuple[Section, ...]:
    """One section per account with lines, in hierarchy order; lines by position."""
    by_account: dict[str, list[LineRecord]] = {}
    for line in sorted(lines, key=lambda x: x.position):
        by_account.setdefault(line.source_account_id, []).append(line)
    order = hierarchy_order(payer_id, accounts)
    placed = {account_id for account_id, _ in order}
    order += [(a, 1) for a in sorted(by_account) if a not in placed]  # outside the tree
    sections = []
    for account_id, depth in order:
        own = by_account.get(account_id)
        if not own:
            continue
        subtotal = sum((x.amount for x in own), Decimal(0))
        known = accounts.get(account_id)
        sections.append(
            Section(
                account_id=account_id,
                account_name=known.name if known else account_id,
                path=_path(account_id, payer_id, accounts) if known else account_id,
                depth=depth,
                lines=tuple(_line(x, currency, locale) for x in own),
                usage=tuple(_usage_row(x, currency, locale) for x in own if x.kind in USAGE_KINDS),
                subtotal=money(subtotal, currency, locale),
                subtotal_value=subtotal,
            )
        )
    return tuple(sections)


def _totals(invoice: InvoiceRecord, locale: str) -> Totals:
    due = invoice.total - invoice.amount_paid
    c = invoice.currency
    return Totals(
        subtotal=money(invoice.subtotal, c, locale),
        tax_total=money(invoice.tax_total, c, locale),
        total=money(invoice.total, c, locale),
        amount_paid=money(invoice.amount_paid, c, locale),
        amount_due=money(due, c, locale),
        total_value=invoice.total,
        amount_due_value=due,
    )


def build_invoice_document(
    invoice: InvoiceRecord,
    *,
    lines: Sequence[LineRecord],
    taxes: Sequence[TaxRecord],
    accounts: Mapping[str, AccountRecord],
    brand: Brand,
    locale: str,
) -> InvoiceDocument:
    """The document of `invoice`: `accounts` holds the payer and its tree (by id)."""
    payer = accounts.get(invoice.account_id)
    c = invoice.currency
    credit = invoice.kind == "credit_note"
    return InvoiceDocument(
        invoice_id=invoice.id,
        kind=invoice.kind,
        title="Credit note" if credit else "Invoice",
        status=invoice.status,
        number=invoice.number or "DRAFT",
        currency=c,
        locale=locale,
        brand=brand,
        payer=Party(
            name=payer.name if payer else invoice.account_id,
            email=payer.email if payer else None,
            address_lines=address_lines(payer.billing_address if payer else None),
        ),
        issue_date=day(invoice.issue_date, locale),
        due_date=day(invoice.due_date, locale),
        period=span(invoice.period_start, invoice.period_end, locale),
        sections=build_sections(invoice.account_id, lines, accounts, currency=c, locale=locale),
        taxes=tuple(
            TaxRow(
                name=t.name,
                jurisdiction=t.jurisdiction,
                rate=percent(t.rate, locale),
                taxable=money(t.taxable, c, locale),
                amount=money(t.amount, c, locale),
            )
            for t in sorted(taxes, key=lambda t: t.position)
        ),
        totals=_totals(invoice, locale),
        corrects_number=invoice.corrects_number,
        reason=invoice.reason,
        is_paid=invoice.status == "paid",
        line_count=len(lines),
    )


def sample_document(
    brand: Brand, *, locale: str = "en_US", currency: str = "USD"
) -> InvoiceDocument:
    """A small invoice with every kind of content, to try a template on before saving it."""
    accounts = {
        "acc_sample": AccountRecord(
            "acc_sample", "Sample Customer", None, "billing@example.com", {"line1": "1 Main St"}
        ),
        "acc_sample_sub": AccountRecord("acc_sample_sub", "Sample Branch", "acc_sample"),
    }
    tier = {"from": "0", "rate": "0.05", "quantity": "100", "amount": "5.00"}
    lines = [
        LineRecord(1, "acc_sample", "recurring", "Monthly plan", date(2026, 1, 1),
                   date(2026, 2, 1), Decimal(1), Decimal("20.00"), Decimal("20.00")),
        LineRecord(2, "acc_sample_sub", "usage", "Calls to mobiles", date(2026, 1, 1),
                   date(2026, 2, 1), Decimal(100), None, Decimal("5.00"), "voice", "Mobile",
                   {"records": 12, "billed_s": 6000, "allowance_s": 0, "tiers": [tier]}),
    ]  # fmt: skip
    invoice = InvoiceRecord(
        "inv_sample", "acc_sample", "invoice", "SAMPLE-0001", "issued", currency,
        date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 1), date(2026, 2, 15),
        Decimal("25.00"), Decimal("5.00"), Decimal("30.00"), Decimal(0),
    )  # fmt: skip
    taxes = [TaxRecord(1, "XX", "Sales tax", Decimal(20), Decimal("25.00"), Decimal("5.00"))]
    return build_invoice_document(
        invoice, lines=lines, taxes=taxes, accounts=accounts, brand=brand, locale=locale
    )
