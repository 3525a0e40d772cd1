"""The demo's rate cards, rounding rules and tiers, as plain data, and loading them.

Each brand sells calls by destination on a retail card (peak, off-peak and weekend at home;
one rate abroad) and buys them from two carriers, each with a cost card in the brand's
currency. The UK brand rounds calls by SPEC C6's rule (first 30 s free, then 60 s, then up to
the next 30 s); the Singapore brand prices voice by graduated tiers on each account's month.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from billstream.core.clock import Clock
from billstream.demo.provider import SG, UK, US, NumberRange
from billstream.rating.allowances import Tier
from billstream.rating.models import CardKind
from billstream.rating.rater import RoundingMode, RoundingRules
from billstream.rating.service import import_rate_card, set_rounding_rule, set_tiers
from billstream.tenants.models import Tenant
from billstream.tenants.service import operator_context

MICRO = Decimal("0.000001")
CARDS_FROM = date(2025, 1, 1)


@dataclass(frozen=True, slots=True)
class Destination:
    """A destination of the retail card: per minute (per message for sms), by band."""

    prefix: str
    description: str
    rate: Decimal  # peak, or every band when `offpeak` is None
    offpeak: Decimal | None = None
    weekend: Decimal | None = None
    usage_type: str = "voice"
    increments: tuple[int, int] = (60, 60)
    weight: int = 0  # how often outbound traffic goes there (0: never)
    dials: NumberRange | None = None  # the numbers outbound traffic dials there


@dataclass(frozen=True, slots=True)
class Carrier:
    name: str
    factor: Decimal  # its cost as a share of the lowest retail rate of the destination
    skips: tuple[str, ...] = ()  # prefixes it does not carry (their calls stay uncosted)


@dataclass(frozen=True, slots=True)
class BrandRates:
    destinations: tuple[Destination, ...]
    carriers: tuple[Carrier, ...]
    unrated: NumberRange  # a real destination the card lacks: its calls are rating rejects


D = Decimal


def N(prefix: str, digits: int) -> NumberRange:
    return NumberRange(prefix, digits, 1)


RATES: Mapping[str, BrandRates] = {
    US.code: BrandRates(
        destinations=(
            Destination(
                "1",
                "US & Canada",
                D("0.020"),
                D("0.012"),
                D("0.010"),
                increments=(6, 6),
                weight=30,
                dials=N("+1646", 7),
            ),
            Destination("1800", "US toll-free (inbound)", D("0.035"), increments=(6, 6)),
            Destination("44", "United Kingdom", D("0.030"), weight=4, dials=N("+4420", 8)),
            Destination(
                "447", "United Kingdom - Mobile", D("0.090"), weight=3, dials=N("+4477", 8)
            ),
            Destination("52", "Mexico", D("0.060"), weight=4, dials=N("+5255", 8)),
            Destination("49", "Germany", D("0.035"), weight=2, dials=N("+4930", 8)),
            Destination("91", "India", D("0.045"), weight=3, dials=N("+9198", 8)),
            Destination("86", "China", D("0.040"), weight=2, dials=N("+8610", 8)),
            Destination("63", "Philippines", D("0.120"), weight=2, dials=N("+632", 8)),
            Destination(
                "1",
                "US & Canada SMS",
                D("0.0075"),
                usage_type="sms",
                increments=(1, 1),
                weight=5,
                dials=N("+1646", 7),
            ),
        ),
        carriers=(Carrier("lumen", D("0.45")), Carrier("bandwidth", D("0.52"), skips=("63",))),
        unrated=N("+297", 7),
    ),
    UK.code: BrandRates(
        destinations=(
            Destination(
                "44",
                "United Kingdom",
                D("0.015"),
                D("0.008"),
                D("0.005"),
                weight=30,
                dials=N("+4411", 8),
            ),
            Destination(
                "447",
                "United Kingdom - Mobile",
                D("0.060"),
                D("0.045"),
                D("0.040"),
                weight=10,
                dials=N("+4477", 8),
            ),
            Destination("44808", "UK freephone (inbound)", D("0.025")),
            Destination("353", "Ireland", D("0.030"), weight=3, dials=N("+3531", 7)),
            Destination("33", "France", D("0.030"), weight=3, dials=N("+331", 8)),
            Destination("49", "Germany", D("0.030"), weight=2, dials=N("+4930", 8)),
            Destination("1", "US & Canada", D("0.020"), weight=3, dials=N("+1646", 7)),
            Destination("91", "India", D("0.040"), weight=3, dials=N("+9198", 8)),
            Destination(
                "44",
                "United Kingdom SMS",
                D("0.035"),
                usage_type="sms",
                increments=(1, 1),
                weight=4,
                dials=N("+4477", 8),
            ),
        ),
        carriers=(Carrier("bt-wholesale", D("0.48")), Carrier("colt", D("0.55"), skips=("91",))),
        unrated=N("+298", 6),
    ),
    SG.code: BrandRates(
        destinations=(
            Destination(
                "65", "Singapore", D("0.030"), D("0.020"), D("0.015"), weight=30, dials=N("+656", 7)
            ),
            Destination("651800", "SG toll-free (inbound)", D("0.050")),
            Destination("60", "Malaysia", D("0.060"), weight=6, dials=N("+603", 8)),
            Destination("62", "Indonesia", D("0.090"), weight=4, dials=N("+6221", 8)),
            Destination("86", "China", D("0.050"), weight=3, dials=N("+8610", 8)),
            Destination("91", "India", D("0.070"), weight=3, dials=N("+9198", 8)),
            Destination("1", "US & Canada", D("0.030"), weight=2, dials=N("+1646", 7)),
            Destination("44", "United Kingdom", D("0.060"), weight=2, dials=N("+4420", 8)),
            Destination(
                "65",
                "Singapore SMS",
                D("0.050"),
                usage_type="sms",
                increments=(1, 1),
                weight=4,
                dials=N("+658", 7),
            ),
        ),
        carriers=(Carrier("singtel", D("0.50")), Carrier("starhub", D("0.44"), skips=("62",))),
        unrated=N("+299", 6),
    ),
}

# SPEC C6: first 30 s free; up to 60 s bills 60 s; then up to the next 30 s
UK_VOICE_ROUNDING = RoundingRules(first_s=60, next_s=30, free_below_s=30, mode=RoundingMode.UP)
# Singapore voice: graduated on the account's month (billed seconds), per minute
SG_VOICE_TIERS = (
    Tier(from_quantity=0, rate_micros=30_000),
    Tier(from_quantity=60_000, rate_micros=22_000),  # from 1,000 minutes
    Tier(from_quantity=600_000, rate_micros=15_000),  # from 10,000 minutes
)


def _micros(value: Decimal) -> str:
    return str(value.quantize(MICRO))


def retail_rows(rates: BrandRates) -> list[dict[str, str]]:
    """The retail card's CSV rows: one per band at home, one for all bands abroad."""
    rows = []
    for d in rates.destinations:
        bands = (
            [("all", d.rate)]
            if d.offpeak is None
            else [("peak", d.rate), ("offpeak", d.offpeak), ("weekend", d.weekend or d.offpeak)]
        )
        for band, rate in bands:
            rows.append(
                {
                    "prefix": d.prefix,
                    "description": d.description,
                    "rate": _micros(rate),
                    "first_increment": str(d.increments[0]),
                    "next_increment": str(d.increments[1]),
                    "band": band,
                    "usage_type": d.usage_type,
                }
            )
    return rows


def cost_rows(rates: BrandRates, carrier: Carrier) -> list[dict[str, str]]:
    """A carrier's cost card: per-second billing at its share of the lowest retail rate."""
    return [
        {
            "prefix": d.prefix,
            "description": d.description,
            "rate": _micros(min(d.rate, d.offpeak or d.rate, d.weekend or d.rate) * carrier.factor),
            "first_increment": "1",
            "next_increment": "1",
            "usage_type": d.usage_type,
        }
        for d in rates.destinations
        if d.prefix not in carrier.skips
    ]


def load_rates(session: Session, clock: Clock, brands: Mapping[str, Tenant]) -> int:
    """Import every card, the UK rounding rule and the Singapore tiers; the cards' rows."""
    imported = 0
    for code, tenant in brands.items():
        rates = RATES[code]
        ctx = operator_context(session, tenant.id)
        cards: list[tuple[str, CardKind, str | None, list[dict[str, str]]]]
        cards = [(f"{tenant.slug} retail", CardKind.RETAIL, None, retail_rows(rates))]
        cards += [
            (f"{c.name} cost", CardKind.COST, c.name, cost_rows(rates, c)) for c in rates.carriers
        ]
        for name, kind, carrier, rows in cards:
            report = import_rate_card(
                session,
                clock=clock,
                ctx=ctx,
                name=name,
                kind=kind,
                rows=rows,
                source=f"{name}.csv",
                effective_from=CARDS_FROM,
                carrier=carrier,
            )
            if report.errors:
                first = report.errors[0]
                raise RuntimeError(f"demo card {name}: line {first.line}: {first.reason}")
            imported += report.imported
        if code == UK.code:
            set_rounding_rule(
                session,
                clock=clock,
                ctx=ctx,
                rules=UK_VOICE_ROUNDING,
                usage_type="voice",
                effective_from=CARDS_FROM,
            )
        if code == SG.code:
            set_tiers(
                session,
                clock=clock,
                ctx=ctx,
                usage_type="voice",
                tiers=SG_VOICE_TIERS,
                effective_from=CARDS_FROM,
            )
    return imported
