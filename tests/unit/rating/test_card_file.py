"""Reading a rate card CSV: per-row errors naming line and column, the rest loaded."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime

from billstream.rating import card_file
from billstream.rating.card_file import read_card_rows


def test_the_docstring_examples_run() -> None:
    assert doctest.testmod(card_file).failed == 0


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
    rows = [
        {"prefix": "44", "rate": "0.01"},
        {"prefix": "44", "rate": "0.02"},  # the same prefix, usage type and band again
        {"prefix": "33", "rate": "0.0000001"},  # beyond micro-units
        {"prefix": "49", "rate": "0.01", "next_increment": "0"},
        {"prefix": "39", "rate": "0.01", "band": "night"},
        {"prefix": "1", "rate": "0.01", None: ["surplus"]},  # type: ignore[dict-item]
        {"prefix": "1", "rate": ""},
        {"prefix": "1", "rate": "0.01", "band": "peak"},
    ]
    card = read_card_rows(rows)
    assert [(e.line, e.column) for e in card.errors] == [
        (3, "prefix"),
        (4, "rate"),
        (5, "next_increment"),
        (6, "band"),
        (7, "*"),
        (8, "rate"),
    ]
    assert [(r["prefix"], r["band"]) for r in card.rates] == [("44", "all"), ("1", "peak")]
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
