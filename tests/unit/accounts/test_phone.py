"""Phone numbers normalised to E.164; anything else refused, naming the field."""

from __future__ import annotations

import pytest

from billstream.accounts.phone import NumberKind, number_kind, to_e164
from billstream.core.errors import InvalidInputError


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("020 7123 4567", "GB", "+442071234567"),
        ("+44 20 7123 4567", None, "+442071234567"),
        ("+44 (0)20 7123 4567", None, "+442071234567"),
        ("+44 20 7123 4567", "US", "+442071234567"),  # a '+' number ignores the region
        ("00 44 20 7123 4567", "FR", "+442071234567"),  # the region's international prefix
        ("(201) 555-0123", "US", "+12015550123"),
        ("+1 201-555-0123", None, "+12015550123"),
        ("03-1234-5678", "JP", "+81312345678"),
    ],
)
def test_national_and_international_forms_become_e164(
    raw: str, region: str | None, e164: str
) -> None:
    assert to_e164(raw, default_region=region) == e164


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("12345", "US", "'12345' is not a valid phone number"),
        ("+44 20 7123", None, "'+44 20 7123' is not a valid phone number"),
        ("hello", "GB", "'hello' is not a phone number"),
        ("", "GB", "'' is not a phone number"),
        ("020 7123 4567", None, "'020 7123 4567' is not a phone number"),  # national, no region
    ],
)
def test_invalid_numbers_are_refused_naming_the_field(
    raw: str, region: str | None, reason: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        to_e164(raw, default_region=region, field="numbers[3]")
    assert raised.value.field == "numbers[3]"
    assert raised.value.detail.startswith(reason)


def test_the_default_field_is_number() -> None:
    with pytest.raises(InvalidInputError) as raised:
        to_e164("12345", default_region="US")
    assert raised.value.field == "number"


@pytest.mark.parametrize(
    ("e164", "kind"),
    [
        ("+442071234567", NumberKind.GEOGRAPHIC),
        ("+447400123456", NumberKind.MOBILE),
        ("+448001234567", NumberKind.TOLL_FREE),
    ],
)
def test_number_kind(e164: str, kind: NumberKind) -> None:
    assert number_kind(e164) == kind
