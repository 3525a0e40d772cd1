"""Invoice number formats go through a small grammar, never `str.format` (issue 17)."""

from __future__ import annotations

import pytest

from billstream.core.errors import InvalidInputError
from billstream.tenants.invoice_numbers import parse_invoice_format
from billstream.tenants.settings import TenantOverrides, format_invoice_number, resolve_settings
from billstream.tenants.validation import check_invoice_format


@pytest.mark.parametrize(
    ("fmt", "number"),
    [
        ("{prefix}{year}-{seq:06d}", "INV-2026-000042"),
        ("{prefix}/{year}/{seq:05d}", "INV-/2026/00042"),
        ("{prefix}{seq:07d}", "INV-0000042"),
        ("{seq}", "42"),
        ("{seq:4d}", "  42"),
        ("{{{year}}}-{seq:012d}", "{2026}-000000000042"),
        ("{year:02d}{seq:01d}", "202642"),
    ],
)
def test_a_format_in_the_grammar_numbers_as_str_format_did(fmt: str, number: str) -> None:
    parsed = parse_invoice_format(fmt)
    assert parsed.number(prefix="INV-", year=2026, seq=42) == number
    assert number == fmt.format(prefix="INV-", year=2026, seq=42)  # no change for these


@pytest.mark.parametrize(
    ("fmt", "reason"),
    [
        ("{seq.__class__}", "'{seq.__class__}' at 0"),
        ("{seq:>99999999}", "'{seq:>99999999}' at 0"),
        ("{seq:099999999d}", "a width of 1 to 12, not 99999999"),
        ("{seq:013d}", "a width of 1 to 12, not 13"),
        ("{seq:00d}", "a width of 1 to 12, not 0"),
        ("{prefix:5d}{seq}", "gives {prefix} no width"),
        ("{month}{seq}", "only {prefix}, {year} and {seq}, not {month}"),
        ("{seq!r}", "'{seq!r}' at 0"),
        ("{seq[0]}", "'{seq[0]}' at 0"),
        ("{}{seq}", "'{}' at 0"),
        ("{0}{seq}", "'{0}' at 0"),
        ("A-{seq", "'{seq' at 2"),
        ("A}{seq}", "'}' at 1"),
        ("{prefix}{year}", "must contain {seq}"),
    ],
)
def test_a_format_outside_the_grammar_is_refused_naming_invoice_format(
    fmt: str, reason: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        check_invoice_format(fmt)
    assert refused.value.field == "invoice_format"
    assert reason in refused.value.detail


def test_a_stored_format_outside_the_grammar_is_refused_when_numbering() -> None:
    # given a format stored before the grammar existed
    settings = resolve_settings(
        [("t1", TenantOverrides(currency="USD", invoice_format="{seq.__class__}"))]
    )

    # when the next invoice is numbered, then it is refused rather than "<class 'int'>"
    with pytest.raises(InvalidInputError) as refused:
        format_invoice_number(settings, year=2026, seq=1)
    assert refused.value.field == "invoice_format"
