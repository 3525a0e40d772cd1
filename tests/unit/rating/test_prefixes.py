"""Longest-prefix match by sorted search: the same answer as trying every prefix length."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.rating import prefixes
from billstream.rating.prefixes import lookup, number_code, prefix_codes, segments

DIGITS = st.text(alphabet="1203", min_size=1, max_size=6).filter(lambda d: d[0] != "0")


def longest(number: str, card: dict[str, int]) -> int | None:
    for length in range(len(number), 0, -1):
        if number[:length] in card:
            return card[number[:length]]
    return None


@settings(max_examples=300, deadline=None)
@given(card=st.lists(DIGITS, max_size=15, unique=True), numbers=st.lists(DIGITS, min_size=1))
def test_the_search_finds_the_longest_prefix(card: list[str], numbers: list[str]) -> None:
    rates = {prefix: i for i, prefix in enumerate(card)}
    found = segments(rates.items(), lane=0, codes=prefix_codes(pl.Series(card, dtype=pl.String)))
    starts = pl.Series([s for s, _ in found], dtype=pl.Int64)
    owners = pl.Series([r for _, r in found], dtype=pl.Int64)
    frame = pl.DataFrame({"d": numbers}).with_columns(
        pl.col("d").cast(pl.Int64).alias("num"),
        pl.col("d").str.len_chars().cast(pl.Int64).alias("n"),
    )
    got = frame.select(lookup(number_code(pl.col("num"), pl.col("n")), starts, owners)).to_series()
    assert got.to_list() == [longest(n, rates) for n in numbers]


def test_a_missing_number_finds_no_rate() -> None:
    # given a card and a record whose number is missing (malformed, or no lane)
    found = segments([("4", 7)], lane=0)
    starts = pl.Series([s for s, _ in found], dtype=pl.Int64)
    owners = pl.Series([r for _, r in found], dtype=pl.Int64)
    keys = pl.DataFrame({"key": [None, prefixes.encode("45")]}, schema={"key": pl.Int64})
    # when they are looked up
    got = keys.select(lookup(pl.col("key"), starts, owners)).to_series()
    # then the missing one gets no rate and the other its prefix's
    assert got.to_list() == [None, 7]
