"""Longest-prefix match of a whole frame of numbers in one sorted search, no join per length.

Each number (up to 15 digits) gets a code: its digits padded with zeros to 15 places, times
16, plus its length, ``code("44") = 440000000000000 x 16 + 2``. The numbers starting with a
prefix of length L are then exactly the codes in ``[code(prefix), (prefix + 1) x 10^(15-L) x
16)``: the length breaks the tie a shorter number would otherwise make (``44`` is not inside
``440``'s interval although both pad to the same digits). The prefixes of a card nest, so their
intervals form a laminar family; `segments` flattens it once, in Python over the card (not over
the records), into disjoint segments each owned by the innermost, i.e. longest, prefix covering
it. Matching a frame of numbers is then one binary search per number among the segment starts:
`search_sorted`, batch by batch, so the plan keeps streaming.

Several searches share one sorted array: each (card version, usage type) is a *lane*
offset by ``lane x SPAN``, and every lane opens with a "no rate" segment, so a number never
finds a neighbouring lane's prefix. The codes fit int64 for up to `MAX_LANES` lanes.

Why a batch function and not joins: one left join per prefix length (or per group of lengths,
each group's prefixes expanded to its longest length) on an Int64 key is native and parallel,
but a streaming join passes every column the frame carries through its partitions, while
the batch search and a gather read only the key column: on the rating benchmark the joins
cost more CPU over the whole streamed plan (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

__all__ = [
    "MAX_LANES",
    "PLACES",
    "SPAN",
    "encode",
    "gather",
    "lookup",
    "number_code",
    "prefix_codes",
    "segments",
]

PLACES = 15
SPAN = 10**PLACES * 16
MAX_LANES = (2**63 - 1) // SPAN - 1
NO_RATE = -1


def encode(digits: str) -> int:
    """The code of a digit string: padded to 15 places, times 16, plus its length.

    >>> encode("44") < encode("440") < encode("4400") < encode("441") < encode("45")
    True
    """
    return int(digits) * int(10 ** (PLACES - len(digits))) * 16 + len(digits)


def _end(digits: str) -> int:
    """The first code after every number starting with `digits`."""
    return (int(digits) + 1) * int(10 ** (PLACES - len(digits))) * 16


def segments(
    prefixes: Iterable[tuple[str, int]], *, lane: int, codes: Mapping[str, int] | None = None
) -> list[tuple[int, int]]:
    """Sorted ``(start, rate)`` segments of one lane: each start owned by its longest prefix.

    `codes` may hold the prefixes' codes, computed once for a whole card (`prefix_codes`).

    >>> segments([("4", 1), ("44", 2)], lane=0) == [
    ...     (0, -1), (encode("4"), 1), (encode("44"), 2), (_end("44"), 1), (_end("4"), -1)]
    True
    """
    base = lane * SPAN
    out: list[tuple[int, int]] = []
    stack: list[tuple[int, int]] = []  # (end, rate) of the open intervals, innermost last

    def close_until(position: int) -> None:
        while stack and stack[-1][0] <= position:
            end, _ = stack.pop()
            out.append((end, stack[-1][1] if stack else NO_RATE))

    intervals = []
    for prefix, rate in prefixes:
        low = codes[prefix] if codes is not None else encode(prefix)
        intervals.append((low, -_end(prefix), rate))
    intervals.sort()  # outer intervals first at one start
    for low, minus_high, rate in intervals:
        close_until(low)
        out.append((low, rate))
        stack.append((-minus_high, rate))
    close_until(SPAN)
    # at one position the last segment written wins; shift into the lane
    owned = {base: NO_RATE} | {base + start: r for start, r in out if start < SPAN}
    return sorted(owned.items())


def prefix_codes(prefixes: pl.Series) -> dict[str, int]:
    """The code of each distinct prefix of a card, computed as one frame operation."""
    distinct = prefixes.unique().to_frame("prefix")
    coded = distinct.select(
        "prefix",
        number_code(
            pl.col("prefix").cast(pl.Int64), pl.col("prefix").str.len_chars().cast(pl.Int64)
        ).alias("code"),
    )
    return dict(coded.iter_rows())


def number_code(num: pl.Expr, length: pl.Expr) -> pl.Expr:
    """The code of each number (`num` its digits as an integer, `length` their count)."""
    return num * pl.lit(10, pl.Int64).pow(PLACES - length) * 16 + length


def lookup(key: pl.Expr, starts: pl.Series, rates: pl.Series) -> pl.Expr:
    """The rate of the segment holding each key (null for none): one binary search per batch.

    A batch-wise function of the key column (elementwise, so the plan keeps streaming): Polars'
    `search_sorted` and `gather` on the segment arrays, no Python per record. It holds the GIL,
    so it makes just those two calls per batch (each of `fill_null`, `clip` or a mask is one
    more frame evaluation under the GIL): a null key becomes -1 in the plan, natively, and the
    owners are shifted by one behind a null, so the search's insertion point is the index.
    (`search_sorted` as an expression on the starts held as a literal is native too, but the
    streaming engine does not stream it: the whole frame is collected in memory.)
    """
    owners = pl.concat([pl.Series([None], dtype=pl.Int64), rates.replace(NO_RATE, None)])

    def find(keys: pl.Series) -> pl.Series:
        return owners.gather(starts.search_sorted(keys, side="right"))

    return key.fill_null(-1).map_batches(find, return_dtype=pl.Int64, is_elementwise=True)


def gather(index: pl.Expr, table: pl.DataFrame) -> list[pl.Expr]:
    """``table``'s row `index` for each row (null index: nulls), one column each: a native
    gather from the table held as literals, streaming, no Python per batch.

    Not a Python batch function returning a struct: Polars converts such a function's return
    type to a Python object on every call, and an `Enum` of a card's 50k rate ids is
    validated (hashed) again each time, which cost more than the gather itself."""
    return [pl.lit(table[column]).gather(index).alias(column) for column in table.columns]
