"""The kinds the rating options name: a card's kind and a rounding mode (no I/O, no Polars:
the command line's options are built from them before any command runs)."""

from __future__ import annotations

from enum import StrEnum


class CardKind(StrEnum):
    RETAIL = "retail"  # what customers pay
    COST = "cost"  # what a carrier charges us


class RoundingMode(StrEnum):
    UP = "up"  # up to the next increment
    NEAREST = "nearest"  # to the nearest increment, a tie up
