"""Per-rate effective windows, cut into the time slices the rater searches.

The rater looks a record up in one *version* of a card: every rate of a version is in force
over the same ``[valid_from, valid_to)``. A rate card row may narrow its own window (the CSV's
``effective_from`` / ``effective_to``), so within a version different rates are in force at
different times. `slice_windows` cuts each version (per layer: the card, each customer's
special rates) at every rate's bounds into slices over which the set of rates in force is
constant, and repeats each rate in every slice it covers with the slice's bounds. A slice is
then a version for the rater: the longest prefix *in force* wins, because a rate not in force
is simply absent from the slice (a nested ``447`` with a short window shadows ``44`` inside
it, and ``44`` applies on either side). Rates keep their ids and version ids (the lineage).

Pure, over the card (thousands of rows), never over the records. A version whose rates share
one window (every card without per-row dates) is returned untouched.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

import polars as pl

__all__ = ["VERSION_KEY", "slice_windows"]

# the columns that identify a slice: after `slice_windows`, a slice's rates share them all
VERSION_KEY = ("card_version_id", "account_id", "valid_from")


def slice_windows(card: pl.DataFrame) -> pl.DataFrame:
    """Rows of `card` (`rater.RATE_SCHEMA`) repeated once per slice of their version that they
    cover, ``valid_from`` / ``valid_to`` set to the slice's bounds; the card's order is kept
    within each slice.

    >>> from datetime import UTC
    >>> jan, feb, mar = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3))
    >>> card = pl.DataFrame({"rate_id": ["r44", "r447"], "card_version_id": ["v", "v"],
    ...     "account_id": [None, None], "valid_from": [jan, feb], "valid_to": [None, mar]})
    >>> [(r["rate_id"], r["valid_from"].month, r["valid_to"] and r["valid_to"].month)
    ...  for r in slice_windows(card).iter_rows(named=True)]
    [('r44', 1, 2), ('r44', 2, 3), ('r447', 2, 3), ('r44', 3, None)]
    """
    groups = ["card_version_id", "account_id"]
    windows = card.group_by(groups).agg(
        (pl.struct("valid_from", "valid_to").n_unique() > 1).alias("_mixed")
    )
    mixed = card.join(windows, on=groups, how="left", nulls_equal=True, maintain_order="left")
    if not mixed["_mixed"].any():
        return card
    plain = mixed.filter(~pl.col("_mixed")).drop("_mixed")
    parts = [plain]
    varied = mixed.filter(pl.col("_mixed")).drop("_mixed")
    for _, rows in varied.group_by(groups, maintain_order=True):
        parts.extend(_slices(rows))
    return pl.concat(parts)


def _slices(rows: pl.DataFrame) -> list[pl.DataFrame]:
    bounds: set[datetime] = set(rows["valid_from"].to_list())
    bounds |= set(rows["valid_to"].drop_nulls().to_list())
    cuts = sorted(bounds)
    open_ended = rows["valid_to"].null_count() > 0
    spans: list[tuple[datetime, datetime | None]] = list(pairwise(cuts))
    if open_ended:
        spans.append((cuts[-1], None))
    out = []
    for low, high in spans:
        covers = (pl.col("valid_from") <= low) & pl.col("valid_to").is_null()
        if high is not None:
            covers = (pl.col("valid_from") <= low) & (
                pl.col("valid_to").is_null() | (pl.col("valid_to") >= high)
            )
        inside = rows.filter(covers)
        if not inside.is_empty():
            out.append(
                inside.with_columns(
                    pl.lit(low, rows.schema["valid_from"]).alias("valid_from"),
                    pl.lit(high, rows.schema["valid_to"]).alias("valid_to"),
                )
            )
    return out
