"""The kinds of the catalogue: a product's kind and when a plan charge is billed (no I/O:
pure modules and the catalogue file use them without the tables)."""

from __future__ import annotations

from enum import StrEnum


class ProductKind(StrEnum):
    RECURRING = "recurring"
    USAGE = "usage"
    ONE_TIME = "one_time"
    HARDWARE = "hardware"


class ChargeTiming(StrEnum):
    ADVANCE = "advance"
    ARREARS = "arrears"


class Outcome(StrEnum):
    """What applying a catalogue file did to one row."""

    CREATED = "created"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
