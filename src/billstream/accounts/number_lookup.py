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
    never overlap for one number within one tenant, so the candidate for an instant is the
    tenant's latest assignment of that number starting at or before it; it holds if it has
    not ended by then. The same number may be in several tenants' inventories, each with its
    own history, so each tenant's history is matched separately; a row that two tenants'
    assignments both claim is ambiguous and gets nulls rather than a guess. Row order and any
    extra columns of `queries` are kept.

    >>> from datetime import datetime, UTC
    >>> q = pl.DataFrame({"number": ["+15550100"], "at": [datetime(2026, 1, 5, tzinfo=UTC)]})
    >>> a = pl.DataFrame({"number": ["+15550100"], "valid_from": [datetime(2026, 1, 1, tzinfo=UTC)],
    ...     "valid_to": [None], "assignment_id": ["nas_1"], "tenant_id": ["ten_1"],
    ...     "account_id": ["acc_1"], "subscription_id": [None]}, schema=ASSIGNMENT_SCHEMA)
    >>> holders_at(q, a)["account_id"].to_list()
    ['acc_1']
    """
    numbered = queries.with_columns(
        pl.col("number").cast(pl.String), pl.col("at").cast(pl.Datetime("us", "UTC"))
    ).with_row_index("_row")
    candidates = (
        assignments.select(list(ASSIGNMENT_SCHEMA))
        .cast(ASSIGNMENT_SCHEMA)
        .with_columns(pl.col("tenant_id").alias("_tenant"))
        .sort("valid_from")
    )
    per_tenant = numbered.select("_row", "number", "at").join(
        candidates.select("number", "_tenant").unique(), on="number", how="inner"
    )
    joined = per_tenant.sort("at").join_asof(
        candidates,
        left_on="at",
        right_on="valid_from",
        by=["number", "_tenant"],
        strategy="backward",
        check_sortedness=False,
    )
    in_force = pl.col("valid_from").is_not_null() & (
        pl.col("valid_to").is_null() | (pl.col("at") < pl.col("valid_to"))
    )
    held = joined.filter(in_force).select("_row", *RESULT_COLUMNS)
    unambiguous = held.filter(pl.len().over("_row") == 1)
    return numbered.join(unambiguous, on="_row", how="left").sort("_row").drop("_row")
