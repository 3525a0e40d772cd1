"""Who held a number at an instant, for a whole frame of (number, instant) pairs at once.

Rating asks this for millions of records, so it is one as-of join, not a query per record.
"""

from __future__ import annotations

import polars as pl

QUERY_SCHEMA = pl.Schema({"number": pl.String(), "at": pl.Datetime("us", "UTC")})
ASSIGNMENT_SCHEMA = pl.Schema(
    {
        "number": pl.String(),
        "valid_from": pl.Datetime("us", "UTC"),
        "valid_to": pl.Datetime("us", "UTC"),
        "assignment_id": pl.String(),
        "tenant_id": pl.String(),
        "account_id": pl.String(),
        "subscription_id": pl.String(),
    }
)
RESULT_COLUMNS = ("assignment_id", "tenant_id", "account_id", "subscription_id")


def holders_at(queries: pl.DataFrame, assignments: pl.DataFrame) -> pl.DataFrame:
    """Add to each (number, at) row the assignment in force then, or nulls.

    Assignments are half-open ``[valid_from, valid_to)`` (``valid_to`` null: open-ended) and
    never overlap for one number, so the candidate for an instant is the latest assignment of
    that number starting at or before it; it holds if it has not ended by then. Row order
    and any extra columns of `queries` are kept.

    >>> from datetime import datetime, UTC
    >>> q = pl.DataFrame({"number": ["+15550100"], "at": [datetime(2026, 1, 5, tzinfo=UTC)]})
    >>> a = pl.DataFrame({"number": ["+15550100"], "valid_from": [datetime(2026, 1, 1, tzinfo=UTC)],
    ...     "valid_to": [None], "assignment_id": ["nas_1"], "tenant_id": ["ten_1"],
    ...     "account_id": ["acc_1"], "subscription_id": [None]}, schema=ASSIGNMENT_SCHEMA)
    >>> holders_at(q, a)["account_id"].to_list()
    ['acc_1']
    """
    queries = queries.with_columns(
        pl.col("number").cast(pl.String), pl.col("at").cast(pl.Datetime("us", "UTC"))
    )
    ordered = queries.with_row_index("_row").sort("at")
    candidates = assignments.select(list(ASSIGNMENT_SCHEMA)).cast(ASSIGNMENT_SCHEMA)
    joined = ordered.join_asof(
        candidates.sort("valid_from"),
        left_on="at",
        right_on="valid_from",
        by="number",
        strategy="backward",
        check_sortedness=False,
    )
    in_force = pl.col("valid_to").is_null() | (pl.col("at") < pl.col("valid_to"))
    return (
        joined.with_columns(
            [pl.when(in_force).then(pl.col(c)).otherwise(None).alias(c) for c in RESULT_COLUMNS]
        )
        .sort("_row")
        .drop("_row", "valid_from", "valid_to")
    )
