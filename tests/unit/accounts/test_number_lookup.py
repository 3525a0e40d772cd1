"""`holders_at`: who held each number at each instant, as one as-of join."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.accounts.number_lookup import ASSIGNMENT_SCHEMA, RESULT_COLUMNS, holders_at

T0 = datetime(2026, 1, 1, tzinfo=UTC)
A = "+442071234567"
B = "+442071234568"

Row = tuple[str, datetime, datetime | None, str, str, str, str | None]


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def assignments(rows: list[Row]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ASSIGNMENT_SCHEMA, orient="row")


def queries(pairs: list[tuple[str, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"number": [n for n, _ in pairs], "at": [t for _, t in pairs]},
        schema={"number": pl.String(), "at": pl.Datetime("us", "UTC")},
    )


def test_half_open_periods_closed_and_open_ended() -> None:
    # given A held by acc_1 for [0h, 10h), then by acc_2 from 10h on; B held for [5h, 6h)
    held = assignments(
        [
            (A, at(0), at(10), "nas_1", "ten_1", "acc_1", None),
            (A, at(10), None, "nas_2", "ten_1", "acc_2", "sub_9"),
            (B, at(5), at(6), "nas_3", "ten_1", "acc_3", None),
        ]
    )
    asked = queries(
        [(A, at(-1)), (A, at(0)), (A, at(9)), (A, at(10)), (A, at(1000)), (B, at(6)), (B, at(5))]
    )
    # when looked up
    result = holders_at(asked, held)
    # then the start instant is inside, the end instant outside, open-ended holds forever
    assert result["account_id"].to_list() == [
        None,
        "acc_1",
        "acc_1",
        "acc_2",
        "acc_2",
        None,
        "acc_3",
    ]
    assert result["subscription_id"].to_list() == [None, None, None, "sub_9", "sub_9", None, None]
    assert result.columns == ["number", "at", *RESULT_COLUMNS]


def test_unknown_numbers_get_nulls_and_extra_columns_and_row_order_are_kept() -> None:
    held = assignments([(A, at(0), None, "nas_1", "ten_1", "acc_1", None)])
    asked = queries([("+15005550006", at(1)), (A, at(1))]).with_columns(
        pl.Series("record", ["r1", "r2"])
    )
    result = holders_at(asked, held)
    assert result.select("record", "account_id").rows() == [("r1", None), ("r2", "acc_1")]


def test_no_assignments_at_all() -> None:
    result = holders_at(queries([(A, at(1))]), pl.DataFrame(schema=ASSIGNMENT_SCHEMA))
    assert result.row(0, named=True)["assignment_id"] is None


def test_each_tenants_history_of_a_shared_number_is_matched_separately() -> None:
    # given A held open-ended in ten_1 from 0h, and in ten_2 for [5h, 6h) only
    held = assignments(
        [
            (A, at(0), None, "nas_1", "ten_1", "acc_1", None),
            (A, at(5), at(6), "nas_2", "ten_2", "acc_2", None),
        ]
    )
    # when asked before, during and after ten_2's period
    result = holders_at(queries([(A, at(3)), (A, at(5)), (A, at(10))]), held)
    # then ten_2's later, ended period does not hide ten_1's open one; the overlap is ambiguous
    assert result["account_id"].to_list() == ["acc_1", None, "acc_1"]
    assert result["tenant_id"].to_list() == ["ten_1", None, "ten_1"]


# --- property: the as-of join equals a per-row scan ----------------------------------------

NUMBERS = [A, B, "+15005550006"]
TENANT_NUMBERS = [("ten_1", A), ("ten_1", B), ("ten_2", A), ("ten_2", B)]


@st.composite
def assignment_sets(draw: st.DrawFn) -> list[Row]:
    """Per tenant and number, non-overlapping [from, to) periods, some adjacent, the last
    maybe open. Two tenants may hold the same number: each has its own history."""
    rows: list[Row] = []
    for tenant, number in draw(st.sets(st.sampled_from(TENANT_NUMBERS), max_size=4)):
        cursor = draw(st.integers(min_value=-20, max_value=20))
        for _ in range(draw(st.integers(min_value=0, max_value=5))):
            start = cursor + draw(st.integers(min_value=0, max_value=5))  # 0: adjacent
            end = start + draw(st.integers(min_value=1, max_value=10))
            is_open = draw(st.booleans()) and draw(st.booleans())
            n = len(rows)
            rows.append(
                (number, at(start), None if is_open else at(end), f"nas_{n}", tenant, f"acc_{n}",
                 draw(st.none() | st.just(f"sub_{n}")))
            )  # fmt: skip
            if is_open:
                break
            cursor = end
    return draw(st.permutations(rows))


def reference(pairs: list[tuple[str, datetime]], rows: list[Row]) -> list[str | None]:
    found: list[str | None] = []
    for number, instant in pairs:
        hits = [
            r[5]
            for r in rows
            if r[0] == number and r[1] <= instant and (r[2] is None or instant < r[2])
        ]
        found.append(hits[0] if len(hits) == 1 else None)  # two tenants' claims: ambiguous
    return found


@settings(max_examples=200)
@given(rows=assignment_sets(), data=st.data())
def test_holders_at_equals_a_per_row_scan(rows: list[Row], data: st.DataObject) -> None:
    # boundaries exactly at valid_from / valid_to are likely: instants are whole hours
    boundaries = [r[1] for r in rows] + [r[2] for r in rows if r[2] is not None]
    instants = st.integers(min_value=-30, max_value=120).map(at)
    if boundaries:
        instants = instants | st.sampled_from(boundaries)
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(NUMBERS), instants), max_size=40))
    result = holders_at(queries(pairs), assignments(rows))
    assert result.select("number", "at").rows() == pairs
    assert result["account_id"].to_list() == reference(pairs, rows)
    by_assignment = {r[3]: r for r in rows}
    for out in result.iter_rows(named=True):
        if out["assignment_id"] is None:
            assert out["tenant_id"] is None
            assert out["subscription_id"] is None
        else:
            source = by_assignment[out["assignment_id"]]
            assert (out["tenant_id"], out["account_id"], out["subscription_id"]) == (
                source[4],
                source[5],
                source[6],
            )
