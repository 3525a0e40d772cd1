"""E.164 normalisation of a frame's numbers: phonenumbers once per DISTINCT number."""

from __future__ import annotations

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException


def e164_or_none(raw: str, region: str | None) -> str | None:
    """`raw` as E.164, or None if it is not a valid number (national: read in `region`)."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def with_e164(frame: pl.DataFrame, columns: list[str], region: str | None) -> pl.DataFrame:
    """Add ``<column>_e164`` for each of `columns`: the E.164 form, null where not a number.

    >>> f = pl.DataFrame({"called": ["020 7123 4567", "+44 20 7123 4567", "oops"]})
    >>> with_e164(f, ["called"], "GB")["called_e164"].to_list()
    ['+442071234567', '+442071234567', None]
    """
    distinct = pl.concat([frame[c] for c in columns]).drop_nulls().unique()
    values = distinct.to_list()
    table = pl.DataFrame(
        {"_raw": values, "_e164": [e164_or_none(v, region) for v in values]},
        schema={"_raw": pl.String(), "_e164": pl.String()},
    )
    for column in columns:
        frame = frame.join(
            table, left_on=column, right_on="_raw", how="left", maintain_order="left"
        ).rename({"_e164": f"{column}_e164"})
    return frame
