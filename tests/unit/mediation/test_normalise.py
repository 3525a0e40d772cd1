"""E.164 normalisation over the distinct numbers of a frame."""

from __future__ import annotations

import polars as pl

from billstream.mediation.normalise import e164_or_none, with_e164


def test_national_numbers_are_read_in_the_default_region() -> None:
    frame = pl.DataFrame({"called": ["2125551234", "12125551234", "+1 212 555 1234", "1001", None]})
    out = with_e164(frame, ["called"], "US")
    assert out["called_e164"].to_list() == ["+12125551234"] * 3 + [None, None]


def test_a_number_of_another_region_keeps_its_country() -> None:
    assert e164_or_none("+44 20 7123 4567", "US") == "+442071234567"
    assert e164_or_none("anonymous", "US") is None
