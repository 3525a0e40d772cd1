"""Reading a rate card CSV: per-row errors naming line and column, the rest loaded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from billstream.rating.card_file import overlap_summary, read_card_rows


def test_every_field_is_read_into_micro_units_and_seconds() -> None:
    row = {
        "prefix": "+447", "description": "UK mobile", "rate": "0.123456", "connect_fee": "0.05",
        "minimum_duration": "30", "first_increment": "30", "next_increment": "6",
        "band": "Peak", "usage_type": "voice",
    }  # fmt: skip
    [rate] = read_card_rows([row]).rates
    assert rate == {
        "prefix": "447", "description": "UK mobile", "usage_type": "voice", "band": "peak",
        "rate_micros": 123_456, "connect_fee_micros": 50_000, "min_duration_s": 30,
        "first_increment_s": 30, "next_increment_s": 6,
        "effective_from": None, "effective_to": None,
    }  # fmt: skip


def test_bad_rows_are_reported_by_line_and_column_and_the_rest_load() -> None:
    rows: list[dict[Any, Any]] = [  # one row carries the surplus key None
        {"prefix": "44", "rate": "0.01"},
        {"prefix": "44", "rate": "0.02"},  # the same prefix, usage type and band again
        {"prefix": "33", "rate": "0.0000001"},  # beyond micro-units
        {"prefix": "49", "rate": "0.01", "next_increment": "0"},
        {"prefix": "39", "rate": "0.01", "band": "night"},
        {"prefix": "1", "rate": "0.01", None: ["surplus"]},
        {"prefix": "1", "rate": ""},
        {"prefix": "1", "rate": "0.01", "band": "peak"},
    ]
    card = read_card_rows(rows)
    assert [(e.line, e.column) for e in card.errors] == [
        (4, "rate"),
        (5, "next_increment"),
        (6, "band"),
        (7, "*"),
        (8, "rate"),
    ]
    # the repeated 44 is no bad row of its own: it overlaps line 2, which refuses the file
    assert [(e.line, e.column, e.reason) for e in card.overlaps] == [
        (3, "prefix", "44 voice all [version start, open) overlaps line 2 [version start, open)")
    ]
    assert [(r["prefix"], r["band"]) for r in card.rates] == [
        ("44", "all"),
        ("44", "all"),
        ("1", "peak"),
    ]
    assert card.rows == 8


def test_effective_dates_are_local_midnights_or_instants_half_open() -> None:
    rows = [
        {"prefix": "44", "rate": "0.01", "effective_from": "2026-07-01", "effective_to": ""},
        {
            "prefix": "447",
            "rate": "0.02",
            "effective_from": "2026-07-01T06:00:00+00:00",
            "effective_to": "2026-08-01",
        },
    ]
    card = read_card_rows(rows, timezone="Europe/London")
    assert card.errors == []
    assert [(r["effective_from"], r["effective_to"]) for r in card.rates] == [
        (datetime(2026, 6, 30, 23, tzinfo=UTC), None),  # BST midnight
        (datetime(2026, 7, 1, 6, tzinfo=UTC), datetime(2026, 7, 31, 23, tzinfo=UTC)),
    ]


def test_bad_effective_dates_name_their_line_and_column() -> None:
    rows = [
        {"prefix": "44", "rate": "0.01", "effective_from": "2026-13-01"},
        {"prefix": "45", "rate": "0.01", "effective_to": "2026-07-01T10:00"},  # no offset
        {"prefix": "46", "rate": "1", "effective_from": "2026-07-01", "effective_to": "2026-07-01"},
        {"prefix": "47", "rate": "1", "effective_from": "2026-07-02", "effective_to": "2026-07-01"},
        {"prefix": "48", "rate": "1", "effective_from": "2026-07-01", "effective_to": "2026-07-02"},
    ]  # fmt: skip
    card = read_card_rows(rows)
    assert [(e.line, e.column) for e in card.errors] == [
        (2, "effective_from"),
        (3, "effective_to"),
        (4, "effective_to"),
        (5, "effective_to"),
    ]
    assert [r["prefix"] for r in card.rates] == ["48"]


def test_one_destination_may_change_price_on_a_date_in_one_file() -> None:
    # given 44 at 0.06 until Feb 1 and at 0.03 from then, and a peak rate beside them
    rows = [
        {"prefix": "44", "rate": "0.06", "effective_to": "2026-02-01"},
        {"prefix": "44", "rate": "0.03", "effective_from": "2026-02-01"},
        {"prefix": "44", "rate": "0.09", "band": "peak"},
        {"prefix": "44", "rate": "0.01", "usage_type": "sms", "effective_from": "2026-01-15"},
    ]

    # when the file is read
    card = read_card_rows(rows, timezone="Europe/Paris")

    # then all four load, each with its own window, and nothing overlaps
    assert (card.errors, card.overlaps) == ([], [])
    assert [(r["rate_micros"], r["effective_from"], r["effective_to"]) for r in card.rates] == [
        (60_000, None, datetime(2026, 1, 31, 23, tzinfo=UTC)),
        (30_000, datetime(2026, 1, 31, 23, tzinfo=UTC), None),
        (90_000, None, None),
        (10_000, datetime(2026, 1, 14, 23, tzinfo=UTC), None),
    ]


def test_windows_of_one_destination_that_overlap_name_both_lines() -> None:
    rows = [
        {"prefix": "44", "rate": "0.06", "effective_to": "2026-02-01"},
        {"prefix": "44", "rate": "0.05", "effective_from": "2026-03-01"},
        # overlaps line 2 on Jan 31 (half-open: from Feb 1 would be fine)
        {"prefix": "44", "rate": "0.03",
         "effective_from": "2026-01-31", "effective_to": "2026-03-01"},
        # an end only, reaching into line 2's window
        {"prefix": "44", "rate": "0.04", "effective_to": "2026-01-10", "band": "all"},
        # the version's whole window: overlaps everything before it
        {"prefix": "+44", "rate": "0.07"},
    ]  # fmt: skip
    card = read_card_rows(rows)
    assert card.errors == []
    line_2 = "overlaps line 2 [version start, 2026-02-01)"
    assert [(e.line, e.column, e.reason) for e in card.overlaps] == [
        (4, "effective_from", f"44 voice all [2026-01-31, 2026-03-01) {line_2}"),
        (5, "effective_to", f"44 voice all [version start, 2026-01-10) {line_2}"),
        (6, "prefix", f"44 voice all [version start, open) {line_2}"),
    ]


def test_the_overlap_summary_shows_the_first_ones_and_counts_the_rest() -> None:
    rows = [{"prefix": "44", "rate": "0.01"} for _ in range(8)]
    summary = overlap_summary(read_card_rows(rows).overlaps, shown=2)
    assert summary == (
        "line 3 prefix: 44 voice all [version start, open) overlaps line 2 [version start, open); "
        "line 4 prefix: 44 voice all [version start, open) overlaps line 2 [version start, open); "
        "and 5 more"
    )


def test_rates_and_dates_out_of_bounds_are_bad_rows_and_the_rest_load() -> None:
    # given rows with an absurd rate or fee, and instants whose UTC would overflow
    rows = [
        {"prefix": "44", "rate": "1e999999"},
        {"prefix": "45", "rate": "0.01", "connect_fee": "1000000.000001"},
        {"prefix": "46", "rate": "0.01", "effective_to": "9999-12-31T23:00:00-05:00"},
        {"prefix": "47", "rate": "0.01", "effective_from": "0001-01-01"},
        {"prefix": "48", "rate": "1000000", "effective_from": "9899-12-31"},
    ]
    # when read in Tokyo (0001-01-01 local is still year 0 in UTC)
    card = read_card_rows(rows, timezone="Asia/Tokyo")
    # then each is a bad row naming its column and why; the last loads
    assert [(e.line, e.column) for e in card.errors] == [
        (2, "rate"),
        (3, "connect_fee"),
        (4, "effective_to"),
        (5, "effective_from"),
    ]
    assert card.errors[0].reason == "'1e999999' must be a number from 0 to 1000000"
    assert "outside the dates billstream accepts" in card.errors[2].reason
    assert [r["rate_micros"] for r in card.rates] == [1_000_000_000_000]
