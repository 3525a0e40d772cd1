"""Time comes from a `Clock`, never from the wall directly, so any scenario runs at any date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from billstream.core.limits import ensure_utc


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that stands still until told to move. Used by tests and the demo."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = ensure_utc(instant)

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta
