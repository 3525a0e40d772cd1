"""Phone numbers normalised to E.164 with `phonenumbers`."""

from __future__ import annotations

from enum import StrEnum

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from billstream.core.errors import InvalidInputError


class NumberKind(StrEnum):
    GEOGRAPHIC = "geographic"
    MOBILE = "mobile"
    TOLL_FREE = "toll_free"
    PREMIUM = "premium"
    VOIP = "voip"
    OTHER = "other"


_KINDS = {
    PhoneNumberType.FIXED_LINE: NumberKind.GEOGRAPHIC,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: NumberKind.GEOGRAPHIC,
    PhoneNumberType.MOBILE: NumberKind.MOBILE,
    PhoneNumberType.TOLL_FREE: NumberKind.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE: NumberKind.PREMIUM,
    PhoneNumberType.VOIP: NumberKind.VOIP,
}


def to_e164(raw: str, *, default_region: str | None = None, field: str = "number") -> str:
    """`raw` as E.164 (``+14155550100``); refuse what is not a valid phone number.

    A number without ``+`` is read in `default_region` (ISO 3166 alpha-2, e.g. ``"US"``).
    """
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except NumberParseException as exc:
        raise InvalidInputError(f"{raw!r} is not a phone number: {exc._msg}", field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInputError(f"{raw!r} is not a valid phone number", field=field)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def number_kind(e164: str) -> NumberKind:
    parsed = phonenumbers.parse(e164, None)
    return _KINDS.get(phonenumbers.number_type(parsed), NumberKind.OTHER)
