"""The per-record reference rater: one record at a time, plain Python and `Decimal`.

Written straight from the rules of SPEC C6 with no frame machinery, so it is easy to read and
check by eye. The Hypothesis tests prove the vectorised `rater.rate` gives exactly its figures
on random cards and records, and the benchmark uses it as the naive baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from billstream.core.money import round_half_up
from billstream.rating.rater import (
    TIME_USAGE,
    Band,
    RejectReason,
    RoundingMode,
    RoundingRules,
    TimeBands,
)

__all__ = [
    "CardIndex",
    "RatedRecord",
    "band_at",
    "band_runs",
    "billed_quantity",
    "index_rates",
    "rate_record",
    "rate_records",
    "split_seconds",
]

MICRO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class RatedRecord:
    record_key: str
    band: str
    rate_id: str | None
    matched_prefix: str | None
    billed_s: int
    billed_units: int
    amount_micros: int
    reject_reason: str | None
    # a call split at band boundaries: (band, billed seconds, rate id) per part, in time order
    band_parts: tuple[tuple[str, int, str], ...] | None = None


def band_at(started_at: datetime, *, timezone: str, bands: TimeBands) -> str:
    local = started_at.astimezone(ZoneInfo(timezone))
    if local.isoweekday() in bands.weekend_days:
        return Band.WEEKEND.value
    if bands.peak_from <= local.time().replace(second=0, microsecond=0) < bands.peak_to:
        return Band.PEAK.value
    return Band.OFFPEAK.value


def billed_quantity(
    used: int, *, first: int, next_: int, minimum: int, free_below: int, nearest: bool
) -> int:
    if used <= 0 or used < free_below:
        return 0
    lifted = max(used, minimum)
    if lifted <= first:
        return first
    beyond = Decimal(lifted - first) / Decimal(next_)
    steps = (
        round_half_up(beyond, 0) if nearest else beyond.to_integral_value(rounding="ROUND_CEILING")
    )
    return first + int(steps) * next_


def band_runs(
    started_at: datetime, duration_s: int, *, timezone: str, bands: TimeBands
) -> list[tuple[datetime, str]]:
    """Where each band the call goes through starts: ``(started_at, its band)``, then each
    boundary strictly inside the call. Bands are whole local minutes and UTC offsets whole
    minutes, so a band can only change at a whole UTC minute: walk them."""
    runs = [(started_at, band_at(started_at, timezone=timezone, bands=bands))]
    last = started_at + timedelta(seconds=duration_s) - timedelta(microseconds=1)
    at = started_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while at <= last:
        band = band_at(at, timezone=timezone, bands=bands)
        if band != runs[-1][1]:
            runs.append((at, band))
        at += timedelta(minutes=1)
    return runs


def split_seconds(
    runs: Sequence[tuple[datetime, str]], started_at: datetime, billed: int
) -> list[tuple[str, int]]:
    """The billed seconds of each band run: billed second k is charged at the band in force at
    ``started_at + k`` (the seconds rounded on beyond the call's end: at the last band)."""
    cuts = [
        min(-(-((at - started_at) // timedelta(microseconds=1)) // 1_000_000), billed)
        for at, _ in runs
    ]
    ends = [*cuts[1:], billed]
    return [
        (band, end - cut) for (_, band), cut, end in zip(runs, cuts, ends, strict=True) if end > cut
    ]


def _in_force(rate: Mapping[str, Any], at: datetime) -> bool:
    return bool(rate["valid_from"] <= at and (rate["valid_to"] is None or at < rate["valid_to"]))


@dataclass(frozen=True, slots=True)
class CardIndex:
    """Rates by (account_id or None for the card, prefix), each list in the card's order."""

    by_prefix: Mapping[tuple[str | None, str], Sequence[Mapping[str, Any]]]


def index_rates(rates: Sequence[Mapping[str, Any]]) -> CardIndex:
    """Index a card once, so each record looks up its prefixes instead of scanning the card."""
    by_prefix: dict[tuple[str | None, str], list[Mapping[str, Any]]] = {}
    for order, rate in enumerate(rates):
        by_prefix.setdefault((rate["account_id"], rate["prefix"]), []).append(
            dict(rate, _order=order)
        )
    return CardIndex(by_prefix)


def _find(record: Mapping[str, Any], card: CardIndex, band: str) -> Any:
    digits = str(record["called"]).removeprefix("+")
    for layer in (record["account_id"], None):  # the customer's special rates, then the card
        for length in range(len(digits), 0, -1):  # the longest prefix first
            candidates = [
                r
                for r in card.by_prefix.get((layer, digits[:length]), ())
                if r["usage_type"] == record["usage_type"] and _in_force(r, record["started_at"])
            ]
            for wanted in (band, Band.ALL.value):
                hits = [r for r in candidates if r["band"] == wanted]
                if hits:
                    return min(hits, key=lambda r: r["_order"])
    return None


def _same_prefix(
    found: Mapping[str, Any], card: CardIndex, band: str, at: datetime
) -> Mapping[str, Any] | None:
    """The rate of `found`'s prefix for `band` in the same card version (and layer)."""
    candidates = [
        r
        for r in card.by_prefix.get((found["account_id"], found["prefix"]), ())
        if r["usage_type"] == found["usage_type"]
        and r["card_version_id"] == found["card_version_id"]
        and _in_force(r, at)
    ]
    for wanted in (band, Band.ALL.value):
        hits = [r for r in candidates if r["band"] == wanted]
        if hits:
            return min(hits, key=lambda r: r["_order"])
    return None


def _split_amount(
    record: Mapping[str, Any], found: Mapping[str, Any], card: CardIndex, billed: int, **bands: Any
) -> tuple[Decimal, tuple[tuple[str, int, str], ...]] | None:
    """The amount of a call split at band boundaries and its parts; None: not split (no
    boundary crossed, a band without a rate for the prefix, or one rate throughout)."""
    at = record["started_at"]
    runs = band_runs(at, int(record["duration_s"]), **bands)
    parts = [
        (band, s, _same_prefix(found, card, band, at))
        for band, s in split_seconds(runs, at, billed)
    ]
    if any(r is None for _, _, r in parts) or len({r["_order"] for _, _, r in parts if r}) < 2:
        return None
    amount = Decimal(found["connect_fee_micros"]) * MICRO
    for _, seconds, rate in parts:
        assert rate is not None
        amount += round_half_up(Fraction(Decimal(rate["rate_micros"]) * MICRO * seconds) / 60, 6)
    return amount, tuple((band, s, r["rate_id"]) for band, s, r in parts if r is not None)


def rate_record(
    record: Mapping[str, Any],
    card: CardIndex,
    *,
    timezone: str = "UTC",
    bands: TimeBands | None = None,
    rules: RoundingRules | None = None,
) -> RatedRecord:
    """Rate one record against a card indexed by `index_rates` (rows of `RATE_SCHEMA`)."""
    band = band_at(record["started_at"], timezone=timezone, bands=bands or TimeBands())
    digits = str(record["called"]).removeprefix("+")
    if not (digits.isascii() and digits.isdigit() and 1 <= len(digits) <= 15) or digits[0] == "0":
        return RatedRecord(
            record["record_key"], band, None, None, 0, 0, 0, RejectReason.INVALID_NUMBER
        )
    found = _find(record, card, band)
    if found is None:
        return RatedRecord(record["record_key"], band, None, None, 0, 0, 0, RejectReason.NO_RATE)
    is_time = record["usage_type"] in TIME_USAGE
    used = int(record["duration_s"] if is_time else record["quantity"])
    first, next_ = int(found["first_increment_s"]), int(found["next_increment_s"])
    free_below, nearest, attempts = 0, False, False
    if rules is not None:
        first, next_, free_below = rules.first_s, rules.next_s, rules.free_below_s
        nearest, attempts = rules.mode is RoundingMode.NEAREST, rules.charge_attempts
    minimum = int(found["min_duration_s"]) if is_time else 0
    billed = billed_quantity(
        used, first=first, next_=next_, minimum=minimum, free_below=free_below, nearest=nearest
    )
    rate = Decimal(found["rate_micros"]) * MICRO
    fee = Decimal(found["connect_fee_micros"]) * MICRO
    split = None
    if rules is not None and rules.split_bands and is_time and used > 0 and billed > 0:
        split = _split_amount(
            record, found, card, billed, timezone=timezone, bands=bands or TimeBands()
        )
    if split is not None:
        amount = split[0]
    elif billed > 0:
        # exact: a Fraction, so a third of a micro-unit is never rounded twice
        variable = Fraction(rate * billed) / 60 if is_time else Fraction(rate * billed)
        amount = fee + round_half_up(variable, 6)
    elif attempts and is_time and used == 0:
        amount = fee
    else:
        amount = Decimal(0)
    return RatedRecord(
        record_key=record["record_key"],
        band=band,
        rate_id=found["rate_id"],
        matched_prefix=found["prefix"],
        billed_s=billed if is_time else 0,
        billed_units=0 if is_time else billed,
        amount_micros=int(amount / MICRO),
        reject_reason=None,
        band_parts=None if split is None else split[1],
    )


def rate_records(
    records: Iterable[Mapping[str, Any]],
    rates: Sequence[Mapping[str, Any]],
    **options: Any,
) -> list[RatedRecord]:
    """`rate_record` over each record in turn: the naive baseline."""
    card = index_rates(rates)
    return [rate_record(record, card, **options) for record in records]
