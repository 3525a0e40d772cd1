"""The vectorised rater: SPEC C6's cases, and exact agreement with the per-record reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.rating import rater
from billstream.rating.rater import RATE_SCHEMA, RoundingMode, RoundingRules, rate
from billstream.rating.reference import rate_records

JAN = datetime(2026, 1, 1, tzinfo=UTC)
MONDAY_10H = datetime(2026, 1, 5, 10, tzinfo=UTC)
SPEC_RULES = RoundingRules(free_below_s=30, first_s=60, next_s=30)


def a_rate(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rate_id": f"r{fields.get('prefix', '44')}",
        "card_version_id": "v1",
        "account_id": None,
        "prefix": "44",
        "usage_type": "voice",
        "band": "all",
        "valid_from": JAN,
        "valid_to": None,
        "rate_micros": 60_000,  # 0.06 a minute: 1,000 micro-units a second
        "connect_fee_micros": 0,
        "min_duration_s": 0,
        "first_increment_s": 60,
        "next_increment_s": 60,
    }
    row.update(fields)
    return row


def a_call(key: str = "c1", **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "record_key": key,
        "account_id": "acc1",
        "usage_type": "voice",
        "started_at": MONDAY_10H,
        "duration_s": 61,
        "quantity": 0,
        "called": "+442071234567",
    }
    row.update(fields)
    return row


USAGE_SCHEMA = {
    "record_key": pl.String,
    "account_id": pl.String,
    "usage_type": pl.String,
    "started_at": pl.Datetime("us", "UTC"),
    "duration_s": pl.Int64,
    "quantity": pl.Int64,
    "called": pl.String,
}


def rated(
    calls: list[dict[str, Any]], rates: list[dict[str, Any]], **options: Any
) -> list[dict[str, Any]]:
    usage = pl.LazyFrame(calls, schema=USAGE_SCHEMA)
    return rate(usage, pl.LazyFrame(rates, schema=RATE_SCHEMA), **options).collect().to_dicts()


def one(call: dict[str, Any], rates: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    [row] = rated([call], rates, **options)
    return row


@pytest.mark.parametrize(
    ("first", "next_", "duration", "billed", "amount"),
    [
        (60, 60, 1, 60, 60_000),
        (60, 60, 60, 60, 60_000),  # exactly one increment
        (60, 60, 61, 120, 120_000),
        (30, 6, 1, 30, 30_000),
        (30, 6, 30, 30, 30_000),  # exactly the first increment
        (30, 6, 31, 36, 36_000),
        (30, 6, 36, 36, 36_000),  # exactly first + one next
        (30, 6, 37, 42, 42_000),
        (1, 1, 1, 1, 1_000),
        (1, 1, 61, 61, 61_000),
    ],
)
def test_increments(first: int, next_: int, duration: int, billed: int, amount: int) -> None:
    # given a card rating 0.06 a minute with increments first/next
    card = [a_rate(first_increment_s=first, next_increment_s=next_)]
    # when a call of `duration` seconds is rated
    row = one(a_call(duration_s=duration), card)
    # then it is billed whole increments
    assert (row["billed_s"], row["amount_micros"]) == (billed, amount)


def test_the_connect_fee_is_added_once_per_call() -> None:
    row = one(a_call(duration_s=61), [a_rate(connect_fee_micros=25_000)])
    assert (row["billed_s"], row["amount_micros"]) == (120, 145_000)


def test_a_minimum_duration_lifts_a_short_call() -> None:
    card = [a_rate(min_duration_s=90, first_increment_s=1, next_increment_s=1)]
    assert one(a_call(duration_s=10), card)["billed_s"] == 90
    assert one(a_call(duration_s=95), card)["billed_s"] == 95


def test_a_zero_duration_call_is_free_unless_attempts_are_charged() -> None:
    card = [a_rate(connect_fee_micros=25_000, min_duration_s=60)]
    assert one(a_call(duration_s=0), card)["amount_micros"] == 0
    attempts = RoundingRules(first_s=60, next_s=60, charge_attempts=True)
    row = one(a_call(duration_s=0), card, rules=attempts)
    assert (row["billed_s"], row["amount_micros"]) == (0, 25_000)


@pytest.mark.parametrize(("duration", "billed"), [(25, 0), (30, 60), (45, 60), (61, 90), (95, 120)])
def test_the_spec_brand_rounding(duration: int, billed: int) -> None:
    row = one(a_call(duration_s=duration), [a_rate()], rules=SPEC_RULES)
    assert row["billed_s"] == billed
    assert row["amount_micros"] == billed * 1_000


def test_rounding_to_the_nearest_increment() -> None:
    nearest = RoundingRules(first_s=60, next_s=30, mode=RoundingMode.NEAREST)
    billed = [one(a_call(duration_s=d), [a_rate()], rules=nearest)["billed_s"] for d in (74, 75)]
    assert billed == [60, 90]


def test_the_amount_rounds_half_up_per_call() -> None:
    # 0.000003 a second x 1 s = 0.0000005: a tie, half-up gives 1 micro-unit (even would give 0)
    card = [a_rate(rate_micros=30, first_increment_s=1, next_increment_s=1)]
    assert one(a_call(duration_s=1), card)["amount_micros"] == 1


def test_the_longest_prefix_wins() -> None:
    card = [a_rate(prefix="4", rate_micros=1), a_rate(prefix="44"), a_rate(prefix="447")]
    rows = rated(
        [
            a_call("a", called="+447700900123"),
            a_call("b", called="+442071234567"),
            a_call("c", called="+491234"),
        ],
        card,
    )
    assert [r["matched_prefix"] for r in rows] == ["447", "44", "4"]
    assert [r["reject_reason"] for r in rows] == [None, None, None]


def test_a_prefix_applies_only_while_its_version_is_in_force() -> None:
    # given version 1 (44 only) until Feb 1, and version 2 adding 447 from Feb 1
    feb = datetime(2026, 2, 1, tzinfo=UTC)
    card = [
        a_rate(rate_id="v1-44", prefix="44", valid_to=feb),
        a_rate(rate_id="v2-44", card_version_id="v2", prefix="44", valid_from=feb),
        a_rate(rate_id="v2-447", card_version_id="v2", prefix="447", valid_from=feb),
    ]
    jan_call = a_call("jan", called="+447700900123", started_at=feb - timedelta(seconds=1))
    feb_call = a_call("feb", called="+447700900123", started_at=feb)
    rows = rated([jan_call, feb_call], card)
    assert [(r["rate_id"], r["card_version_id"]) for r in rows] == [
        ("v1-44", "v1"),
        ("v2-447", "v2"),
    ]


def test_a_nested_prefix_applies_only_inside_its_own_window() -> None:
    feb, mar = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    card = [
        a_rate(prefix="44"),
        a_rate(prefix="447", rate_micros=120_000, valid_from=feb, valid_to=mar),
        a_rate(prefix="4477", rate_micros=240_000, valid_from=mar),
    ]
    mobile = "+447700900123"
    calls = [
        a_call("jan", started_at=MONDAY_10H, called=mobile),
        a_call("feb", started_at=feb + timedelta(days=2, hours=10), called=mobile),
        a_call("end", started_at=mar - timedelta(microseconds=1), called=mobile),
        a_call("mar", started_at=mar, called=mobile),
        a_call("mar447", started_at=mar, called="+447100900123"),
    ]
    rows = rated(calls, card)
    assert [(r["record_key"], r["matched_prefix"], r["card_version_id"]) for r in rows] == [
        ("jan", "44", "v1"),
        ("feb", "447", "v1"),
        ("end", "447", "v1"),
        ("mar", "4477", "v1"),
        ("mar447", "44", "v1"),
    ]


def test_a_rate_whose_window_has_not_started_is_no_rate() -> None:
    feb = datetime(2026, 2, 1, tzinfo=UTC)
    row = one(a_call(), [a_rate(valid_from=feb), a_rate(prefix="1", valid_to=feb)])
    assert row["reject_reason"] == "no_rate"


def test_no_rate_and_a_malformed_number_are_rejects_with_a_reason() -> None:
    rows = rated([a_call("a", called="+33123"), a_call("b", called="abc")], [a_rate()])
    assert [(r["reject_reason"], r["amount_micros"]) for r in rows] == [
        ("no_rate", 0),
        ("invalid_number", 0),
    ]


def banded_card() -> list[dict[str, Any]]:
    return [
        a_rate(rate_id="peak", band="peak", rate_micros=120_000),
        a_rate(rate_id="off", band="offpeak", rate_micros=60_000),
        a_rate(rate_id="wknd", band="weekend", rate_micros=30_000),
    ]


@pytest.mark.parametrize(
    ("started_at", "band"),
    [
        (datetime(2026, 1, 5, 7, 59, 59, tzinfo=UTC), "offpeak"),  # Monday 07:59:59 GMT
        (datetime(2026, 1, 5, 8, 0, tzinfo=UTC), "peak"),
        (datetime(2026, 1, 5, 19, 59, 59, tzinfo=UTC), "peak"),
        (datetime(2026, 1, 5, 20, 0, tzinfo=UTC), "offpeak"),
        (datetime(2026, 1, 9, 23, 59, 59, tzinfo=UTC), "offpeak"),  # Friday night
        (datetime(2026, 1, 10, 0, 0, tzinfo=UTC), "weekend"),  # Saturday 00:00
        # DST: on Monday 30 March 2026 London is on BST (UTC+1): 07:00 UTC is 08:00 local
        (datetime(2026, 3, 27, 7, 0, tzinfo=UTC), "offpeak"),  # Friday before: 07:00 GMT
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), "peak"),
        (datetime(2026, 3, 30, 18, 59, 59, tzinfo=UTC), "peak"),  # 19:59:59 BST
        (datetime(2026, 3, 30, 19, 0, tzinfo=UTC), "offpeak"),  # 20:00 BST
    ],
)
def test_time_bands_in_the_tenant_local_time(started_at: datetime, band: str) -> None:
    row = one(a_call(started_at=started_at), banded_card(), timezone="Europe/London")
    assert (row["band"], row["rate_id"]) == (
        band,
        {"peak": "peak", "offpeak": "off", "weekend": "wknd"}[band],
    )


def test_a_band_rate_beats_the_all_band_rate_of_the_same_prefix() -> None:
    card = [a_rate(rate_id="any"), a_rate(rate_id="wknd", band="weekend")]
    saturday = datetime(2026, 1, 10, 12, tzinfo=UTC)
    rows = rated([a_call("wd"), a_call("we", started_at=saturday)], card)
    assert [r["rate_id"] for r in rows] == ["any", "wknd"]


def test_a_band_the_longest_prefix_lacks_falls_back_to_the_nearest_prefix_with_it() -> None:
    card = [
        a_rate(prefix="4", rate_id="4-all"),
        a_rate(prefix="44", rate_id="44-peak", band="peak"),
        a_rate(prefix="447", rate_id="447-peak", band="peak"),
        a_rate(prefix="4477", rate_id="4477-weekend", band="weekend"),
    ]
    evening = datetime(2026, 1, 5, 21, tzinfo=UTC)
    saturday = datetime(2026, 1, 10, 12, tzinfo=UTC)
    rows = rated(
        [
            a_call("peak", called="+447712345678"),
            a_call("evening", called="+447712345678", started_at=evening),
            a_call("weekend", called="+447712345678", started_at=saturday),
            a_call("weekend-447", called="+447012345678", started_at=saturday),
        ],
        card,
    )
    assert [(r["rate_id"], r["matched_prefix"]) for r in rows] == [
        ("447-peak", "447"),
        ("4-all", "4"),
        ("4477-weekend", "4477"),
        ("4-all", "4"),
    ]


def test_a_card_compiled_once_rates_every_batch_as_the_card_itself() -> None:
    card = [*banded_card(), a_rate(prefix="447", rate_id="447"), a_rate(prefix="4", rate_id="4")]
    compiled = rater.compile_card(pl.LazyFrame(card, schema=RATE_SCHEMA))
    evening = datetime(2026, 1, 5, 21, tzinfo=UTC)
    batches = [
        [a_call("a", called="+447700900123"), a_call("b", called="+491234")],
        [a_call("c", called="+442071234567", started_at=evening), a_call("d", called="+1")],
    ]
    for batch in batches:
        usage = pl.LazyFrame(batch, schema=USAGE_SCHEMA)
        assert rate(usage, compiled).collect().to_dicts() == rated(batch, card)


def test_a_customer_special_rate_overrides_the_card() -> None:
    card = [
        a_rate(rate_id="card", prefix="447"),
        a_rate(rate_id="vip", account_id="acc1", card_version_id="s1", rate_micros=6_000),
    ]
    rows = rated(
        [
            a_call("mine", called="+447700900123"),
            a_call("other", account_id="acc2", called="+447700900123"),
        ],
        card,
    )
    assert [(r["rate_id"], r["amount_micros"]) for r in rows] == [
        ("vip", 12_000),
        ("card", 120_000),
    ]


def test_sms_and_data_are_rated_per_unit() -> None:
    card = [a_rate(usage_type="sms", rate_micros=40_000, first_increment_s=1, next_increment_s=1)]
    row = one(a_call(usage_type="sms", duration_s=0, quantity=3), card)
    assert (row["billed_s"], row["billed_units"], row["amount_micros"]) == (0, 3, 120_000)


# --- the vectorised rater equals the per-record reference ----------------------------------

PREFIXES = st.text(alphabet="123", min_size=1, max_size=4).filter(lambda p: p[0] != "0")
INSTANTS = st.integers(0, 365 * 86_400 - 1).map(lambda s: JAN + timedelta(seconds=s))
SPLIT = datetime(2026, 6, 1, tzinfo=UTC)


CUTS = [datetime(2026, m, d, h, tzinfo=UTC) for m, d, h in ((3, 1, 0), (4, 15, 9), (9, 1, 0))]


def _narrowed(draw: st.DrawFn, low: datetime, high: datetime | None) -> dict[str, Any]:
    """The version's window, or (a row's own effective dates) a part of it."""
    inside = [c for c in CUTS if c > low and (high is None or c < high)]
    starts = draw(st.sampled_from([low, low, *inside]))
    ends = draw(st.sampled_from([high, high, *(c for c in inside if c > starts)]))
    return {"valid_from": starts, "valid_to": ends}


@st.composite
def cards(draw: st.DrawFn) -> list[dict[str, Any]]:
    # per layer (the card, acc1's special rates) one open version, or two split at June 1
    split = {layer: draw(st.booleans()) for layer in (None, "acc1")}
    rows = []
    for i in range(draw(st.integers(1, 12))):
        layer = draw(st.sampled_from([None, None, "acc1"]))
        version = draw(st.sampled_from(["old", "new"])) if split[layer] else "open"
        rows.append(
            a_rate(
                rate_id=f"r{i}",
                card_version_id=version,
                account_id=layer,
                prefix=draw(PREFIXES),
                usage_type=draw(st.sampled_from(["voice", "sms"])),
                band=draw(st.sampled_from(["all", "peak", "offpeak", "weekend"])),
                **_narrowed(
                    draw,
                    SPLIT if version == "new" else JAN,
                    SPLIT if version == "old" else None,
                ),
                rate_micros=draw(st.integers(0, 2_000_000)),
                connect_fee_micros=draw(st.integers(0, 50_000)),
                min_duration_s=draw(st.sampled_from([0, 0, 30, 90])),
                first_increment_s=draw(st.sampled_from([0, 1, 30, 60])),
                next_increment_s=draw(st.sampled_from([1, 6, 30, 60])),
            )
        )
    return rows


CALLS = st.lists(
    st.builds(
        a_call,
        key=st.uuids().map(str),
        account_id=st.sampled_from(["acc1", "acc2"]),
        usage_type=st.sampled_from(["voice", "sms"]),
        started_at=INSTANTS,
        duration_s=st.integers(0, 4_000),
        quantity=st.integers(0, 50),
        called=st.text(alphabet="0123", min_size=0, max_size=6).map(lambda d: "+" + d),
    ),
    min_size=1,
    max_size=25,
)
RULES = st.one_of(
    st.none(),
    st.builds(
        RoundingRules,
        first_s=st.integers(0, 90),
        next_s=st.integers(1, 60),
        free_below_s=st.integers(0, 40),
        mode=st.sampled_from(list(RoundingMode)),
        charge_attempts=st.booleans(),
        split_bands=st.booleans(),
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    card=cards(),
    calls=CALLS,
    rules=RULES,
    timezone=st.sampled_from(["UTC", "Europe/London", "America/New_York"]),
)
def test_the_vectorised_rater_equals_the_reference(
    card: list[dict[str, Any]],
    calls: list[dict[str, Any]],
    rules: RoundingRules | None,
    timezone: str,
) -> None:
    fast = rated(calls, card, rules=rules, timezone=timezone)
    slow = rate_records(calls, card, rules=rules, timezone=timezone)
    assert [
        (
            r["record_key"],
            r["band"],
            r["rate_id"],
            r["matched_prefix"],
            r["billed_s"],
            r["billed_units"],
            r["amount_micros"],
            r["reject_reason"],
            _band_parts(r),
        )
        for r in fast
    ] == [
        (
            r.record_key,
            r.band,
            r.rate_id,
            r.matched_prefix,
            r.billed_s,
            r.billed_units,
            r.amount_micros,
            r.reject_reason,
            r.band_parts,
        )
        for r in slow
    ]


def _band_parts(row: dict[str, Any]) -> tuple[tuple[str, int, str], ...] | None:
    if row.get("band_parts") is None:
        return None
    return tuple((p["band"], p["seconds"], p["rate_id"]) for p in row["band_parts"])


def test_a_card_of_too_many_lanes_falls_back_to_a_join_per_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the sorted search is unavailable (as for a card with thousands of versions)
    monkeypatch.setattr(rater, "MAX_LANES", 0)
    card = [a_rate(prefix="4", rate_micros=1), a_rate(prefix="44"), banded_card()[0] | {
        "prefix": "447", "rate_id": "447-peak"}]  # fmt: skip
    evening = datetime(2026, 1, 5, 21, tzinfo=UTC)
    calls = [
        a_call("a", called="+447700900123"),
        a_call("b", called="+491234"),
        a_call("c", called="+447700900123", started_at=evening),
    ]
    rows = rated(calls, card)
    # then the longest prefix with a rate for the band still wins
    assert [r["rate_id"] for r in rows] == ["447-peak", "r4", "r44"]


@pytest.mark.parametrize("max_lanes", [None, 0], ids=["sorted-search", "join-per-length"])
def test_numbers_shorter_than_a_prefix_are_rated_by_the_prefixes_they_hold(
    monkeypatch: pytest.MonkeyPatch, max_lanes: int | None
) -> None:
    # given a card whose longest prefixes are longer than some called numbers
    if max_lanes is not None:
        monkeypatch.setattr(rater, "MAX_LANES", max_lanes)
    card = [a_rate(prefix="1", rate_micros=1), a_rate(prefix="10"), a_rate(prefix="1012")]
    calls = [
        a_call("one", called="+1"),
        a_call("two", called="+10"),
        a_call("three", called="+101"),
        a_call("nine", called="+9"),
    ]
    # when they are rated
    rows = rated(calls, card)
    # then each takes the longest prefix it holds, and one it holds none of is a reject
    assert [r["matched_prefix"] for r in rows] == ["1", "10", "10", None]
    assert [r["reject_reason"] for r in rows] == [None, None, None, "no_rate"]
