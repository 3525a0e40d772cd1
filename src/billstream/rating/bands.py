"""Time bands: peak, off-peak and weekend, by the tenant's local wall-clock time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum

import polars as pl

__all__ = ["BAND", "Band", "TimeBands", "band_of_wall", "bands_of", "wall_time"]

MINUTES_IN_DAY = 1_440


class Band(StrEnum):
    ALL = "all"
    PEAK = "peak"
    OFFPEAK = "offpeak"
    WEEKEND = "weekend"


BAND = pl.Enum([b.value for b in Band])  # a band column: small integers, not a string per row


@dataclass(frozen=True, slots=True)
class TimeBands:
    """Peak hours on weekdays, everything else off-peak, the weekend days their own band.

    >>> TimeBands().peak_from, TimeBands().weekend_days
    (datetime.time(8, 0), (6, 7))
    """

    peak_from: time = time(8)
    peak_to: time = time(20)
    weekend_days: tuple[int, ...] = (6, 7)  # ISO weekdays: Saturday, Sunday


def bands_of(started_at: pl.Expr, *, timezone: str, bands: TimeBands) -> pl.Expr:
    """The time band of each start instant, in the tenant's local time (a `BAND` enum).

    >>> from datetime import datetime, UTC
    >>> frame = pl.DataFrame({"at": [
    ...     datetime(2026, 3, 27, 7, 30, tzinfo=UTC),   # Fri 07:30 UTC = 07:30 GMT
    ...     datetime(2026, 3, 30, 7, 30, tzinfo=UTC),   # Mon 07:30 UTC = 08:30 BST (DST)
    ...     datetime(2026, 3, 28, 12, 0, tzinfo=UTC),   # Saturday
    ... ]})
    >>> frame.select(bands_of(pl.col("at"), timezone="Europe/London", bands=TimeBands()))
    shape: (3, 1)
    ┌─────────┐
    │ band    │
    │ ---     │
    │ enum    │
    ╞═════════╡
    │ offpeak │
    │ peak    │
    │ weekend │
    └─────────┘
    """
    return band_of_wall(wall_time(started_at, timezone), bands)


def wall_time(instant: pl.Expr, timezone: str) -> pl.Expr:
    """The local wall-clock time of a UTC instant, naive."""
    return instant.dt.convert_time_zone(timezone).dt.replace_time_zone(None)


def band_of_wall(local: pl.Expr, bands: TimeBands) -> pl.Expr:
    """The band of a naive local wall-clock time.

    The minute of the day and the weekday come from the wall time's microseconds by integer
    arithmetic: each of `dt.hour`, `dt.minute` and `dt.weekday` would convert every value
    to a calendar date and time again (the time zone, once, is converted by the caller)."""
    micros = local.dt.cast_time_unit("us").cast(pl.Int64)
    minute = (micros // 60_000_000) % MINUTES_IN_DAY
    weekday = (micros // 86_400_000_000 + 3) % 7 + 1  # ISO: 1970-01-01 was a Thursday (4)
    peak_from = bands.peak_from.hour * 60 + bands.peak_from.minute
    peak_to = bands.peak_to.hour * 60 + bands.peak_to.minute
    return (
        pl.when(weekday.is_in(list(bands.weekend_days)))
        .then(pl.lit(Band.WEEKEND.value, BAND))
        .when((minute >= peak_from) & (minute < peak_to))
        .then(pl.lit(Band.PEAK.value, BAND))
        .otherwise(pl.lit(Band.OFFPEAK.value, BAND))
        .alias("band")
    )
