"""A month of generated CDRs for the demo: one carrier CSV file per carrier, vectorised.

Every record is drawn from a hash of its index (Polars, no Python loop per record), so a seed
gives the same files on every machine. Most calls are made from or to the numbers the brands'
accounts hold in January: inbound calls to them, outbound calls from them to the retail card's
destinations (by weight), and text messages; about 3% reach nobody's number (mediation rejects
them as `unknown_number`), a few dial a destination the card lacks (rating rejects them) and a
few lines are malformed (a bad timestamp or duration). Calls start at the brand's local peak
hours seven times in ten.
"""

from __future__ import annotations

import io
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from billstream.demo.generate import phone_number
from billstream.demo.provider import BRANDS, BrandSpec, NumberRange
from billstream.demo.rates import RATES, BrandRates

FORMAT_NAME = "northwind-carrier-csv"
# Columns of the demo carriers' files: a generic carrier CSV with a usage type, a message
# count and the carrier's name (cost rating needs it).
FORMAT_YAML = f"""\
# Written by `billstream demo`: the CSV its carriers deliver (see docs/cdr-formats.md).
name: {FORMAT_NAME}
description: Demo carriers' CSV (call_id, start, from, to, seconds, type, units, carrier)
delimiter: ","
header: true
columns: [call_id, start_time, from_number, to_number, billed_seconds, usage_type, units, carrier]
fields:
  started_at: [start_time]
  duration: billed_seconds
  calling: from_number
  called: to_number
  quantity: units
  usage_type: usage_type
  carrier: carrier
timestamp_formats: ["%Y-%m-%d %H:%M:%S"]
timezone: UTC
duration_unit: seconds
record_key:
  column: call_id
  hash_of: [start_time, from_number, to_number, billed_seconds]
route_by: [called, calling]
default_region: US
usage_type: voice
"""

POOL = 60  # distinct numbers dialled per destination (E.164 is checked once per number)
CALLERS = 400  # distinct outside numbers calling in, per brand
PEAK_START, PEAK_HOURS = 8, 12  # SPEC C6's peak: 08:00-20:00 local
# per mille of a brand's records
UNKNOWN, INBOUND, UNRATED, MALFORMED_PER_10K = 30, 380, 3, 5


@dataclass(frozen=True, slots=True)
class Holding:
    """The numbers a brand's accounts hold through January, and its numbers nobody holds."""

    held: Sequence[str]
    unheld: Sequence[str]


@dataclass(frozen=True, slots=True)
class CdrFile:
    name: str
    carrier: str
    records: int
    data: bytes


def _draw(salt: int, seed: int) -> pl.Expr:
    return (pl.col("i") * 0x9E3779B1 + salt).hash(seed)


def _pick(pool: Sequence[str], salt: int, seed: int) -> pl.Expr:
    """A member of `pool` per row, uniformly."""
    values = pl.Series(list(pool), dtype=pl.String)
    return pl.lit(values).gather((_draw(salt, seed) % len(values)).cast(pl.Int64))


def dialled_pool(rng: random.Random, rates: BrandRates, taken: set[str]) -> tuple[list[str], ...]:
    """Outbound voice targets (repeated by weight), sms targets and unrated ones."""
    voice: list[str] = []
    sms: list[str] = []
    for d in rates.destinations:
        if d.dials is None or not d.weight:
            continue
        numbers = [phone_number(rng, (d.dials,), taken) for _ in range(POOL)]
        (sms if d.usage_type == "sms" else voice).extend(numbers * d.weight)
    unrated = [phone_number(rng, (rates.unrated,), taken) for _ in range(POOL)]
    return voice, sms, unrated


def _outside(rng: random.Random, brand: BrandSpec, taken: set[str], count: int) -> list[str]:
    return [phone_number(rng, (brand.inventory[0],), taken) for _ in range(count)]


def brand_records(
    brand: BrandSpec, holding: Holding, *, count: int, first: int, seed: int
) -> pl.DataFrame:
    """`count` records of one brand's month, as the carrier files' string columns."""
    rng = random.Random(f"{seed}:{brand.code}")
    rates = RATES[brand.code]
    taken = set(holding.held) | set(holding.unheld)
    voice, sms, unrated = dialled_pool(rng, rates, taken)
    callers = [phone_number(rng, (NumberRange("+1415", 7, 1),), taken) for _ in range(CALLERS)]
    nobody = [*holding.unheld, *_outside(rng, brand, taken, POOL)]
    kind, is_sms = pl.col("kind"), pl.col("kind") >= 1000 - 60
    mine = _pick(holding.held, 2, seed)
    frame = (
        pl.DataFrame({"i": pl.int_range(first, first + count, dtype=pl.Int64, eager=True)})
        .lazy()
        .with_columns((_draw(1, seed) % 1000).alias("kind"), mine.alias("mine"))
        .with_columns(
            pl.when(kind < UNKNOWN)
            .then(_pick(nobody, 4, seed))
            .when(kind < UNKNOWN + INBOUND)
            .then(pl.col("mine"))
            .when(kind < UNKNOWN + INBOUND + UNRATED)
            .then(_pick(unrated, 5, seed))
            .when(is_sms)
            .then(_pick(sms, 6, seed))
            .otherwise(_pick(voice, 7, seed))
            .alias("to_number"),
            pl.when(kind < UNKNOWN + INBOUND)
            .then(_pick(callers, 3, seed))
            .otherwise(pl.col("mine"))
            .alias("from_number"),
            pl.when(is_sms).then(pl.lit("sms")).otherwise(pl.lit("voice")).alias("usage_type"),
            _start(brand, seed).alias("start_time"),
            pl.when(is_sms).then(0).otherwise(_seconds(seed)).alias("seconds"),
            pl.when(is_sms).then(1).otherwise(0).alias("units"),
            pl.when(_draw(8, seed) % 100 < 60)
            .then(pl.lit(rates.carriers[0].name))
            .otherwise(pl.lit(rates.carriers[1].name))
            .alias("carrier"),
        )
    )
    return (
        _spoiled(frame, seed)
        .select(
            (pl.lit(f"{brand.code.lower()}-") + pl.col("i").cast(pl.String)).alias("call_id"),
            "start_time",
            "from_number",
            "to_number",
            "billed_seconds",
            "usage_type",
            pl.col("units").cast(pl.String),
            "carrier",
        )
        .collect()
    )


def _start(brand: BrandSpec, seed: int) -> pl.Expr:
    """An instant of January, local peak hours seven times in ten, as UTC text."""
    zone = ZoneInfo(brand.tenant.timezone)
    month = datetime(2026, 1, 1, tzinfo=zone)
    offset = month.utcoffset() or timedelta(0)  # no DST change in these zones in January
    day = (_draw(9, seed) % 31).cast(pl.Int64) * 86_400
    in_day = (_draw(10, seed) % (PEAK_HOURS * 3600)).cast(pl.Int64)
    peak = _draw(11, seed) % 10 < 7
    night = ((PEAK_START + PEAK_HOURS) * 3600 + in_day) % 86_400
    local = pl.when(peak).then(PEAK_START * 3600 + in_day).otherwise(night)
    utc_start = month.replace(tzinfo=None) - offset
    at = pl.lit(utc_start) + pl.duration(seconds=day + local)
    return at.dt.strftime("%Y-%m-%d %H:%M:%S")


def _seconds(seed: int) -> pl.Expr:
    """Call lengths: one in eight under 30 s, the rest 20 s to 8 min, about 3.5 min on average."""
    short = _draw(12, seed) % 8 == 0
    long = 20 + _draw(13, seed) % 240 + _draw(14, seed) % 240
    return pl.when(short).then(_draw(15, seed) % 30).otherwise(long).cast(pl.Int64)


def _spoiled(frame: pl.LazyFrame, seed: int) -> pl.LazyFrame:
    """A few lines as a carrier sometimes sends them: a bad date, a negative or text duration."""
    spoil = _draw(16, seed) % 10_000
    return frame.with_columns(
        pl.when(spoil == 0)
        .then(pl.lit("2026-01-32 25:61:00"))
        .otherwise(pl.col("start_time"))
        .alias("start_time"),
        pl.when(spoil == 1)
        .then(pl.lit("-12"))
        .when(spoil == 2)
        .then(pl.lit("n/a"))
        .otherwise(pl.col("seconds").cast(pl.String))
        .alias("billed_seconds"),
    )


def month_files(
    holdings: Mapping[str, Holding], *, total: int, seed: int, month: date
) -> list[CdrFile]:
    """`total` records over the brands (by their held numbers), one file per carrier."""
    weights = {code: len(h.held) for code, h in holdings.items() if h.held}
    spread = sum(weights.values())
    frames, first = [], 0
    for brand in BRANDS:
        if brand.code not in weights:
            continue
        count = total * weights[brand.code] // spread
        if brand.code == next(iter(weights)):
            count += total - sum(total * w // spread for w in weights.values())
        frames.append(
            brand_records(brand, holdings[brand.code], count=count, first=first, seed=seed)
        )
        first += count
    records = pl.concat(frames)
    files = []
    for (carrier,), part in sorted(records.partition_by("carrier", as_dict=True).items()):
        out = io.BytesIO()
        part.sort("start_time").write_csv(out)
        name = f"{carrier}-{month:%Y-%m}.csv"
        files.append(
            CdrFile(name=name, carrier=str(carrier), records=part.height, data=out.getvalue())
        )
    return files
