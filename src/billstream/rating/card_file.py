"""A rate card CSV file, read row by row into validated rates and per-row errors.

Pure: rows (dicts keyed by the header) in, `CardFile` out. Columns (header names):

==================  ========  ==================================================
column              required  meaning
==================  ========  ==================================================
prefix              yes       destination digits (a leading ``+`` is allowed)
description         no        e.g. ``United Kingdom - Mobile``
rate                yes       per minute (time usage) or per unit, up to 6 places
connect_fee         no        per call, default 0
minimum_duration    no        seconds, default 0
first_increment     no        seconds, default 60
next_increment      no        seconds, default 60
band                no        all (default) | peak | offpeak | weekend
usage_type          no        voice (default) | sms | data | …
effective_from      no        this rate only from then (see below)
effective_to        no        this rate only before then (half-open)
==================  ========  ==================================================

``effective_from`` / ``effective_to`` narrow one rate inside its card version's window,
half-open ``[from, to)``: a date ``YYYY-MM-DD`` is the tenant's local midnight (as the card's
``--effective-from``), an ISO 8601 instant with a UTC offset (``2026-02-01T06:00:00+00:00``)
is that instant. ``to`` must be after ``from``.

A bad row is an error naming its line and column; the other rows still load. The same
(prefix, usage type, band) may appear on several rows when their windows do not overlap (a
price change on a date, in one file); two rows whose windows overlap (two rows without dates
included) are an *overlap* naming both lines, and an overlap refuses the whole file: which of
the two prices was meant is not ours to guess.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from billstream.core.errors import InvalidInputError
from billstream.core.limits import MAX_RATE, OutOfBoundsError, check_instant
from billstream.core.money import to_micros
from billstream.rating.rater import Band

__all__ = ["CardFile", "RowError", "overlap_summary", "read_card_rows"]

MICROS = Decimal(1_000_000)
MAX_SECONDS = 86_400
REQUIRED = ("prefix", "rate")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    reason: str


@dataclass
class CardFile:
    rates: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # bad rows; the others load
    overlaps: list[RowError] = field(default_factory=list)  # any one refuses the whole file
    rows: int = 0


@dataclass(frozen=True, slots=True)
class _Window:
    """A row's own half-open window (None: its version's bound) and how the file wrote it."""

    line: int
    starts: datetime | None
    ends: datetime | None
    text: str

    def overlaps(self, other: _Window) -> bool:
        before = self.ends is not None and other.starts is not None and self.ends <= other.starts
        after = other.ends is not None and self.starts is not None and other.ends <= self.starts
        return not (before or after)


class _Bad(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def _text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _micros(row: Mapping[str, Any], column: str, *, default: str | None = None) -> int:
    raw = _text(row, column) or default
    if raw is None:
        raise _Bad(column, "is required")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise _Bad(column, f"{raw!r} is not a decimal number") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_RATE:
        raise _Bad(column, f"{raw!r} must be a number from 0 to {MAX_RATE}")
    try:
        return to_micros(amount)
    except ValueError:
        raise _Bad(column, f"{raw!r} has more than 6 decimal places") from None


def _seconds(row: Mapping[str, Any], column: str, *, default: int, least: int) -> int:
    raw = _text(row, column)
    if not raw:
        return default
    if not raw.isdigit() or not least <= int(raw) <= MAX_SECONDS:
        raise _Bad(column, f"{raw!r} must be whole seconds from {least} to {MAX_SECONDS}")
    return int(raw)


def _instant(row: Mapping[str, Any], column: str, timezone: str) -> datetime | None:
    raw = _text(row, column)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            instant = datetime.combine(date.fromisoformat(raw), time(0), tzinfo=ZoneInfo(timezone))
        else:
            instant = datetime.fromisoformat(raw)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise _Bad(column, f"{raw!r} is not a date YYYY-MM-DD or an ISO instant with an offset")
    try:
        return check_instant(instant).astimezone(UTC)
    except OutOfBoundsError as exc:  # converting year 1 or 9999 to UTC would overflow
        raise _Bad(column, f"{raw!r}: {exc.detail}") from None


def _window(row: Mapping[str, Any], timezone: str) -> tuple[datetime | None, datetime | None]:
    starts = _instant(row, "effective_from", timezone)
    ends = _instant(row, "effective_to", timezone)
    if starts is not None and ends is not None and ends <= starts:
        raise _Bad("effective_to", f"{_text(row, 'effective_to')!r} is not after effective_from")
    return starts, ends


def _window_text(row: Mapping[str, Any]) -> str:
    starts = _text(row, "effective_from") or "version start"
    return f"[{starts}, {_text(row, 'effective_to') or 'open'})"


def _prefix(row: Mapping[str, Any]) -> str:
    raw = _text(row, "prefix")
    digits = raw.removeprefix("+")
    if not (digits.isascii() and digits.isdigit() and 1 <= len(digits) <= 15) or digits[0] == "0":
        raise _Bad("prefix", f"{raw!r} is not 1-15 digits of an E.164 number")
    return digits


def _rate(row: Mapping[str, Any], timezone: str) -> dict[str, Any]:
    band = _text(row, "band").lower() or Band.ALL.value
    if band not in {b.value for b in Band}:
        raise _Bad("band", f"{band!r} is not one of all, peak, offpeak, weekend")
    usage_type = _text(row, "usage_type").lower() or "voice"
    if not usage_type.isidentifier() or len(usage_type) > 32:
        raise _Bad("usage_type", f"{usage_type!r} is not a usage type")
    description = _text(row, "description")
    if len(description) > 200:
        raise _Bad("description", "is longer than 200 characters")
    effective_from, effective_to = _window(row, timezone)
    return {
        "prefix": _prefix(row),
        "description": description,
        "usage_type": usage_type,
        "band": band,
        "rate_micros": _micros(row, "rate"),
        "connect_fee_micros": _micros(row, "connect_fee", default="0"),
        "min_duration_s": _seconds(row, "minimum_duration", default=0, least=0),
        "first_increment_s": _seconds(row, "first_increment", default=60, least=0),
        "next_increment_s": _seconds(row, "next_increment", default=60, least=1),
        "effective_from": effective_from,
        "effective_to": effective_to,
    }


def read_card_rows(
    rows: Iterable[Mapping[str, Any]], *, first_line: int = 2, timezone: str = "UTC"
) -> CardFile:
    """Validate each row; the header is line 1, so the first row is line 2. Dates of
    ``effective_from`` / ``effective_to`` are local midnights in `timezone` (the tenant's).

    >>> card = read_card_rows([{"prefix": "+44", "rate": "0.012"},
    ...                        {"prefix": "44", "rate": "x"}, {"prefix": "0", "rate": "1"}])
    >>> card.rates[0]["prefix"], card.rates[0]["rate_micros"], card.rates[0]["first_increment_s"]
    ('44', 12000, 60)
    >>> [(e.line, e.column) for e in card.errors]
    [(3, 'rate'), (4, 'prefix')]

    A destination's price change on a date is two rows with windows that do not overlap;
    windows that do overlap are `overlaps`, naming both lines:

    >>> card = read_card_rows([
    ...     {"prefix": "44", "rate": "0.01", "effective_to": "2026-02-01"},
    ...     {"prefix": "44", "rate": "0.02", "effective_from": "2026-02-01"},
    ...     {"prefix": "44", "rate": "0.03", "effective_from": "2026-01-15"}])
    >>> len(card.rates), [(e.line, e.column) for e in card.overlaps]
    (3, [(4, 'effective_from')])
    >>> card.overlaps[0].reason
    '44 voice all [2026-01-15, open) overlaps line 2 [version start, 2026-02-01)'
    """
    out = CardFile()
    seen: dict[tuple[str, str, str], list[_Window]] = {}
    for line, row in enumerate(rows, start=first_line):
        out.rows += 1
        if None in row:  # csv.DictReader puts surplus fields under the key None
            out.errors.append(RowError(line, "*", "more fields than the header has columns"))
            continue
        try:
            rate = _rate(row, timezone)
        except _Bad as bad:
            out.errors.append(RowError(line, bad.column, bad.reason))
            continue
        key = (rate["prefix"], rate["usage_type"], rate["band"])
        window = _Window(line, rate["effective_from"], rate["effective_to"], _window_text(row))
        earlier = next((w for w in seen.get(key, ()) if w.overlaps(window)), None)
        if earlier is not None:
            out.overlaps.append(_overlap(key, window, earlier))
        seen.setdefault(key, []).append(window)
        out.rates.append(rate)
    return out


def _overlap(key: tuple[str, str, str], window: _Window, earlier: _Window) -> RowError:
    """The later row of two overlapping ones, blamed on its first date (no date: its prefix,
    there again)."""
    column = "prefix"
    if window.starts is not None:
        column = "effective_from"
    elif window.ends is not None:
        column = "effective_to"
    return RowError(
        window.line,
        column,
        f"{' '.join(key)} {window.text} overlaps line {earlier.line} {earlier.text}",
    )


def overlap_summary(overlaps: Sequence[RowError], *, shown: int = 5) -> str:
    """The overlaps of a file in one sentence, the first `shown` of them by line.

    >>> overlap_summary([RowError(4, "effective_from", "44 voice all [...] overlaps line 2")])
    'line 4 effective_from: 44 voice all [...] overlaps line 2'
    """
    parts = [f"line {o.line} {o.column}: {o.reason}" for o in overlaps[:shown]]
    if len(overlaps) > shown:
        parts.append(f"and {len(overlaps) - shown} more")
    return "; ".join(parts)


def csv_dict_rows(data: bytes, *, name: str = "file") -> list[dict[str, Any]]:
    """The rows of an uploaded UTF-8 CSV (a BOM is allowed) as dicts keyed by its header;
    an empty or unreadable upload is refused naming the field `name`."""
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        if not reader.fieldnames:
            raise InvalidInputError("the file is empty; expected a header row", field=name)
        return list(reader)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"not a readable UTF-8 CSV file: {exc}", field=name) from None
