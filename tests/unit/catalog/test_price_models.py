"""Price models at every boundary, graduated against volume, bounds, and validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from billstream.catalog.price_models import (
    EventTotals,
    Flat,
    Graduated,
    Package,
    Percentage,
    PerUnit,
    PriceModel,
    PriceResult,
    Tier,
    Volume,
    event_split,
    events_charge,
    price_of,
    unit_price_of,
)
from billstream.core.errors import InvalidInputError

UNIT_SETTINGS = settings(max_examples=200)
ADAPTER: TypeAdapter[PriceModel] = TypeAdapter(PriceModel)

# 0.10 up to 100 units, 0.08 up to 500, 0.05 above
TIERS = [
    Tier(up_to=Decimal(100), unit_price=Decimal("0.10")),
    Tier(up_to=Decimal(500), unit_price=Decimal("0.08")),
    Tier(up_to=None, unit_price=Decimal("0.05")),
]


def cost(model: PriceModel, quantity: int | str, **kwargs: Any) -> Decimal:
    return price_of(model, Decimal(quantity), **kwargs).amount


def parse(document: dict[str, Any]) -> PriceModel:
    return ADAPTER.validate_python(document)


def error_locations(document: dict[str, Any]) -> list[tuple[int | str, ...]]:
    with pytest.raises(ValidationError) as raised:
        parse(document)
    return [tuple(error["loc"]) for error in raised.value.errors()]


# --- flat and per unit ------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, 1, 7])
def test_a_flat_price_is_its_amount_whatever_the_quantity(quantity: int) -> None:
    result = price_of(Flat(amount=Decimal("20.00")), Decimal(quantity))
    assert result.amount == Decimal("20.00")
    assert [(s.description, s.quantity, s.amount) for s in result.slices] == [
        ("flat", 1, Decimal("20.00"))
    ]


@pytest.mark.parametrize(("quantity", "expected"), [(0, "0"), (1, "5.00"), (50, "250.00")])
def test_a_per_unit_price_multiplies(quantity: int, expected: str) -> None:
    assert cost(PerUnit(unit_price=Decimal("5.00")), quantity) == Decimal(expected)


def test_zero_units_cost_nothing_and_have_no_slices() -> None:
    for model in (
        PerUnit(unit_price=Decimal(5)),
        Graduated(tiers=TIERS),
        Volume(tiers=TIERS),
        Package(block_size=Decimal(10), block_price=Decimal(3)),
    ):
        assert price_of(model, Decimal(0)) == PriceResult(Decimal(0), ())


# --- graduated against volume on the same tiers -------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "graduated", "volume"),
    [
        ("0", "0", "0"),
        ("1", "0.10", "0.10"),
        ("100", "10.00", "10.00"),  # exactly the first limit
        ("101", "10.08", "8.08"),  # limit + 1: graduated 100 x 0.10 + 1 x 0.08
        ("100.5", "10.040", "8.040"),  # a fraction of a unit past the limit
        ("500", "42.00", "40.00"),  # 100 x 0.10 + 400 x 0.08
        ("501", "42.05", "25.05"),  # the open-ended tier
        ("1000", "67.00", "50.00"),  # 42.00 + 500 x 0.05
    ],
)
def test_graduated_prices_each_slice_and_volume_prices_all_units_at_the_tier_reached(
    quantity: str, graduated: str, volume: str
) -> None:
    assert cost(Graduated(tiers=TIERS), quantity) == Decimal(graduated)
    assert cost(Volume(tiers=TIERS), quantity) == Decimal(volume)


def test_graduated_slices_say_which_tier_charged_what() -> None:
    result = price_of(Graduated(tiers=TIERS), Decimal(501))
    assert [(s.description, s.quantity, s.unit_price, s.amount) for s in result.slices] == [
        ("tier 1 (up to 100)", 100, Decimal("0.10"), Decimal("10.00")),
        ("tier 2 (over 100 up to 500)", 400, Decimal("0.08"), Decimal("32.00")),
        ("tier 3 (over 500)", 1, Decimal("0.05"), Decimal("0.05")),
    ]


def test_volume_has_one_slice_for_the_tier_reached() -> None:
    result = price_of(Volume(tiers=TIERS), Decimal(101))
    assert [(s.description, s.quantity, s.amount) for s in result.slices] == [
        ("tier 2 (over 100 up to 500)", 101, Decimal("8.08"))
    ]


def test_a_single_open_tier_covers_all_units() -> None:
    model = Volume(tiers=[Tier(unit_price=Decimal(2))])
    assert [s.description for s in price_of(model, Decimal(3)).slices] == ["tier 1 (all units)"]


FEE_TIERS = [
    Tier(up_to=Decimal(10), unit_price=Decimal(1), flat_fee=Decimal(5)),
    Tier(up_to=None, unit_price=Decimal("0.5"), flat_fee=Decimal(2)),
]


@pytest.mark.parametrize(
    ("quantity", "graduated", "volume"),
    [(0, "0", "0"), (1, "6", "6"), (10, "15", "15"), (11, "17.5", "7.5"), (20, "22", "12")],
)
def test_a_tier_flat_fee_is_charged_once_the_tier_is_reached(
    quantity: int, graduated: str, volume: str
) -> None:
    assert cost(Graduated(tiers=FEE_TIERS), quantity) == Decimal(graduated)
    assert cost(Volume(tiers=FEE_TIERS), quantity) == Decimal(volume)


@pytest.mark.parametrize("model", [Graduated, Volume])
def test_zero_units_reach_no_tier_unless_the_price_puts_them_in_the_first(
    model: type[Graduated] | type[Volume],
) -> None:
    # given tiers whose first has a 5.00 flat fee, by default and with zero_in_first_tier
    default = model(tiers=FEE_TIERS)
    kill_bill_like = model(tiers=FEE_TIERS, zero_in_first_tier=True)
    # when zero units are priced
    # then by default nothing is charged; with the option, the first tier's flat fee
    assert price_of(default, Decimal(0)).slices == ()
    charged = price_of(kill_bill_like, Decimal(0))
    assert charged.amount == FEE_TIERS[0].flat_fee
    assert [s.description for s in charged.slices if s.amount] == ["tier 1 (up to 10) flat fee"]
    # and one unit or more costs the same either way
    for quantity in (1, 10, 11, 20):
        assert cost(kill_bill_like, quantity) == cost(default, quantity)


# --- package ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "blocks"),
    [("0", 0), ("1", 1), ("99", 1), ("100", 1), ("101", 2), ("200", 2), ("200.01", 3)],
)
def test_a_package_price_charges_whole_blocks_and_a_partial_block_rounds_up(
    quantity: str, blocks: int
) -> None:
    model = Package(block_size=Decimal(100), block_price=Decimal("8.00"))
    result = price_of(model, Decimal(quantity))
    assert result.amount == blocks * Decimal("8.00")
    assert [s.quantity for s in result.slices] == ([blocks] if blocks else [])


@pytest.mark.parametrize(
    ("quantity", "blocks"),
    [("0", 0), ("50", 0), ("50.5", 1), ("51", 1), ("150", 1), ("151", 2), ("250", 2)],
)
def test_a_package_price_with_free_units_charges_whole_blocks_after_them(
    quantity: str, blocks: int
) -> None:
    # given the first 50 units free, then 8.00 per block of 100
    model = Package(block_size=Decimal(100), block_price=Decimal("8.00"), free_units=Decimal(50))
    # when priced, then the blocks count from unit 51
    result = price_of(model, Decimal(quantity))
    assert result.amount == blocks * Decimal("8.00")
    assert [s.quantity for s in result.slices] == ([blocks] if blocks else [])


@UNIT_SETTINGS
@given(
    quantity=st.integers(0, 10_000),
    free=st.integers(0, 1_000),
    block=st.integers(1, 500),
)
def test_free_units_take_exactly_their_blocks_off(quantity: int, free: int, block: int) -> None:
    # the price with free units is the price without them of the units above them
    with_free = Package(block_size=Decimal(block), block_price=Decimal(3), free_units=Decimal(free))
    plain = Package(block_size=Decimal(block), block_price=Decimal(3))
    expected = price_of(plain, Decimal(max(quantity - free, 0))).amount
    assert price_of(with_free, Decimal(quantity)).amount == expected


# --- percentage ---------------------------------------------------------------------------------


def test_a_percentage_applies_to_its_base() -> None:
    model = Percentage(percent=Decimal(3), of="usage")
    assert cost(model, 0, base=Decimal("200.00")) == Decimal("6.00")
    assert cost(model, 0, base=Decimal("0")) == Decimal(0)
    result = price_of(model, Decimal(0), base=Decimal("85.50"))
    assert result.amount == Decimal("2.5650")
    assert result.slices[0].description == "3% of usage"


def _cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


@UNIT_SETTINGS
@given(
    percent=st.integers(0, 10_000).map(lambda n: Decimal(n).scaleb(-2)),  # 0 to 100.00
    fee=st.none() | _cents(0, 100),
    low=st.none() | _cents(0, 200),
    span=st.none() | _cents(0, 200),
    micros=st.lists(st.integers(0, 50_000_000), max_size=20),
)
def test_events_split_and_summed_by_integers_charge_what_each_event_is_charged(
    percent: Decimal, fee: Decimal | None, low: Decimal | None, span: Decimal | None,
    micros: list[int],
) -> None:  # fmt: skip
    # given a percentage of events with any fee and bounds, and events of rated micro-units
    high = None if span is None else (low or Decimal(0)) + span
    model = Percentage(percent=percent, of="events", fee_per_event=fee,
                       minimum_per_event=low, maximum_per_event=high)  # fmt: skip
    # when they are split as a database counts and sums them (integers only)
    split = event_split(model)
    totals = EventTotals()
    for a in micros:
        below = split.below is not None and a < split.below
        above = not below and split.above is not None and a > split.above
        middle = not (below or above)
        totals += EventTotals(int(below), int(above), int(middle), a if middle else 0)
    # then they are charged what each event is charged, one by one
    each = price_of(model, Decimal(0), events=[Decimal(a).scaleb(-6) for a in micros])
    assert events_charge(model, totals) == each.amount


def test_a_percentage_without_its_base_is_refused_naming_the_base() -> None:
    with pytest.raises(InvalidInputError) as raised:
        price_of(Percentage(percent=Decimal(3), of="usage"), Decimal(1))
    assert raised.value.field == "base"


# --- minimum and maximum ------------------------------------------------------------------------

BOUNDED = PerUnit(unit_price=Decimal(2), minimum=Decimal(10), maximum=Decimal(50))


@pytest.mark.parametrize(
    ("quantity", "amount", "clamped"),
    [
        (0, "10", "minimum"),
        (3, "10", "minimum"),
        (5, "10", None),  # exactly the minimum
        (10, "20", None),
        (25, "50", None),  # exactly the maximum
        (26, "50", "maximum"),
    ],
)
def test_minimum_and_maximum_charges_clamp_the_amount(
    quantity: int, amount: str, clamped: str | None
) -> None:
    result = price_of(BOUNDED, Decimal(quantity))
    assert result.amount == Decimal(amount)
    assert result.clamped == clamped


def test_a_clamp_appears_as_a_slice_so_slices_add_up_to_the_amount() -> None:
    result = price_of(BOUNDED, Decimal(3))
    assert [(s.description, s.amount) for s in result.slices] == [
        ("per unit", Decimal(6)),
        ("minimum charge", Decimal(4)),
    ]
    result = price_of(BOUNDED, Decimal(30))
    assert [(s.description, s.amount) for s in result.slices] == [
        ("per unit", Decimal(60)),
        ("maximum charge", Decimal(-10)),
    ]


def test_bounds_apply_to_tiered_and_percentage_prices_too() -> None:
    assert cost(Graduated(tiers=TIERS, maximum=Decimal(40)), 1000) == Decimal(40)
    assert cost(Volume(tiers=TIERS, minimum=Decimal(9)), 101) == Decimal(9)
    model = Percentage(percent=Decimal(3), of="usage", minimum=Decimal(1))
    assert price_of(model, Decimal(0), base=Decimal(10)).clamped == "minimum"


# --- unit prices for proration, and bad quantities ------------------------------------------


def test_only_flat_and_per_unit_prices_have_a_unit_price_to_prorate() -> None:
    assert unit_price_of(Flat(amount=Decimal("20.00"))) == Decimal("20.00")
    assert unit_price_of(PerUnit(unit_price=Decimal("5.00"))) == Decimal("5.00")
    for model in (
        Graduated(tiers=TIERS),
        Volume(tiers=TIERS),
        Package(block_size=Decimal(1), block_price=Decimal(1)),
        Percentage(percent=Decimal(1), of="usage"),
    ):
        with pytest.raises(InvalidInputError) as raised:
            unit_price_of(model)
        assert raised.value.field == "type"


def test_a_negative_quantity_is_refused_naming_the_quantity() -> None:
    with pytest.raises(InvalidInputError) as raised:
        price_of(PerUnit(unit_price=Decimal(1)), Decimal(-1))
    assert raised.value.field == "quantity"


# --- the document shape and its validation -------------------------------------------------


def test_a_document_parses_to_the_model_its_type_names() -> None:
    model = parse(
        {
            "type": "graduated",
            "tiers": [
                {"up_to": "100", "unit_price": "0.10"},
                {"up_to": "500", "unit_price": "0.08"},
                {"up_to": None, "unit_price": "0.05"},
            ],
        }
    )
    assert model == Graduated(tiers=TIERS)
    assert parse(model.model_dump(mode="json")) == model


def test_models_are_frozen() -> None:
    model = PerUnit(unit_price=Decimal(5))
    with pytest.raises(ValidationError):
        model.unit_price = Decimal(4)  # type: ignore[misc]


def tiers_of(*limits: int | None) -> dict[str, Any]:
    return {"type": "graduated", "tiers": [{"up_to": u, "unit_price": "1"} for u in limits]}


@pytest.mark.parametrize(
    ("document", "location"),
    [
        (tiers_of(100, 50, None), ("graduated", "tiers", 1, "up_to")),  # unsorted
        (tiers_of(100, 100, None), ("graduated", "tiers", 1, "up_to")),  # overlapping
        (tiers_of(None, 100, None), ("graduated", "tiers", 0, "up_to")),  # None not last
        (tiers_of(100, 500), ("graduated", "tiers", 1, "up_to")),  # last has a limit
        (tiers_of(0, None), ("graduated", "tiers", 0, "up_to")),  # a limit of 0
        ({"type": "volume", "tiers": []}, ("volume", "tiers")),
        ({"type": "per_unit", "unit_price": "-1"}, ("per_unit", "unit_price")),
        ({"type": "flat", "amount": "-0.01"}, ("flat", "amount")),
        (
            {"type": "volume", "tiers": [{"up_to": None, "unit_price": "-1"}]},
            ("volume", "tiers", 0, "unit_price"),
        ),
        (
            {"type": "volume", "tiers": [{"unit_price": "1", "flat_fee": "-1"}]},
            ("volume", "tiers", 0, "flat_fee"),
        ),
        ({"type": "package", "block_size": "0", "block_price": "1"}, ("package", "block_size")),
        ({"type": "package", "block_size": "10", "block_price": "-1"}, ("package", "block_price")),
        ({"type": "percentage", "percent": "-1", "of": "usage"}, ("percentage", "percent")),
        ({"type": "percentage", "percent": "1", "of": ""}, ("percentage", "of", 0)),
        ({"type": "percentage", "percent": "1", "of": []}, ("percentage", "of")),
        (
            {"type": "percentage", "percent": "1", "of": "numbers", "fee_per_event": "0.3"},
            ("percentage", "fee_per_event"),
        ),
        (
            {"type": "per_unit", "unit_price": "1", "minimum": "10", "maximum": "5"},
            ("per_unit", "maximum"),
        ),
        ({"type": "per_unit", "unit_price": "1", "minimum": "-5"}, ("per_unit", "minimum")),
        ({"type": "per_unit", "unit_price": "1", "colour": "red"}, ("per_unit", "colour")),
        ({"type": "per_unit", "unit_price": "NaN"}, ("per_unit", "unit_price")),
    ],
)
def test_bad_prices_are_refused_naming_the_field(
    document: dict[str, Any], location: tuple[int | str, ...]
) -> None:
    assert error_locations(document) == [location]


def test_a_tier_error_says_why() -> None:
    with pytest.raises(ValidationError) as raised:
        parse(tiers_of(100, 50, None))
    assert raised.value.errors()[0]["msg"] == "tiers must ascend: 50 is not above 100"
    with pytest.raises(ValidationError) as raised:
        parse(tiers_of(None, 100, None))
    assert "only the last tier may have no limit" in raised.value.errors()[0]["msg"]


def test_an_unknown_price_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        parse({"type": "tiered", "unit_price": "1"})


def test_minimum_equal_to_maximum_is_allowed() -> None:
    model = PerUnit(unit_price=Decimal(1), minimum=Decimal(5), maximum=Decimal(5))
    assert cost(model, 100) == Decimal(5)


# --- properties ---------------------------------------------------------------------------------

quantities = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)


@st.composite
def tier_lists(draw: st.DrawFn) -> list[Tier]:
    limits = sorted(draw(st.sets(st.integers(1, 2_000), max_size=4)))
    prices = st.decimals(min_value=0, max_value=10, places=3, allow_nan=False)
    return [
        Tier(up_to=None if limit is None else Decimal(limit), unit_price=draw(prices))
        for limit in [*limits, None]
    ]


@UNIT_SETTINGS
@given(tiers=tier_lists(), quantity=quantities)
def test_graduated_slices_cover_the_quantity_and_add_up(
    tiers: list[Tier], quantity: Decimal
) -> None:
    result = price_of(Graduated(tiers=tiers), quantity)
    assert sum((s.quantity for s in result.slices), Decimal(0)) == quantity
    assert sum((s.amount for s in result.slices), Decimal(0)) == result.amount


@UNIT_SETTINGS
@given(tiers=tier_lists(), quantity=quantities, more=quantities)
def test_graduated_never_costs_less_for_more_units(
    tiers: list[Tier], quantity: Decimal, more: Decimal
) -> None:
    model = Graduated(tiers=tiers)
    assert price_of(model, quantity).amount <= price_of(model, quantity + more).amount


@UNIT_SETTINGS
@given(tiers=tier_lists(), quantity=quantities.filter(lambda q: q > 0))
def test_volume_charges_every_unit_at_the_first_tier_that_holds_the_quantity(
    tiers: list[Tier], quantity: Decimal
) -> None:
    reached = next(t for t in tiers if t.up_to is None or quantity <= t.up_to)
    assert price_of(Volume(tiers=tiers), quantity).amount == quantity * reached.unit_price


@UNIT_SETTINGS
@given(
    quantity=quantities,
    price=st.decimals(min_value=0, max_value=100, places=2, allow_nan=False),
    bounds=st.lists(
        st.decimals(min_value=0, max_value=5_000, places=2, allow_nan=False), min_size=2, max_size=2
    ),
)
def test_a_bounded_amount_stays_within_its_bounds_and_slices_add_up(
    quantity: Decimal, price: Decimal, bounds: list[Decimal]
) -> None:
    low, high = sorted(bounds)
    result = price_of(PerUnit(unit_price=price, minimum=low, maximum=high), quantity)
    assert low <= result.amount <= high
    assert sum((s.amount for s in result.slices), Decimal(0)) == result.amount
    assert all(s.amount == s.quantity * s.unit_price for s in result.slices)


# --- percentage of events -----------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)


@UNIT_SETTINGS
@given(
    events=st.lists(money, max_size=20),
    percent=st.decimals(min_value=0, max_value=100, places=2, allow_nan=False),
    fee=money,
    low=st.none() | money,
    high=st.none() | money,
)
def test_a_percentage_of_events_clamps_each_event_then_adds_them(
    events: list[Decimal], percent: Decimal, fee: Decimal, low: Decimal | None, high: Decimal | None
) -> None:
    if low is not None and high is not None and low > high:
        low, high = high, low
    # given a percentage of each event plus a fee per event, bounded per event
    model = Percentage(
        percent=percent, of="events", fee_per_event=fee, minimum_per_event=low,
        maximum_per_event=high,
    )  # fmt: skip
    # when the events are priced
    result = price_of(model, Decimal(0), events=events)
    # then each event's charge is its own percentage plus the fee, within its bounds
    assert len(result.slices) == len(events)
    for amount, part in zip(events, result.slices, strict=True):
        expected = amount * percent / 100 + fee
        expected = max(expected, low) if low is not None else expected
        expected = min(expected, high) if high is not None else expected
        assert part.amount == expected
    assert result.amount == sum((s.amount for s in result.slices), Decimal(0))


def test_a_card_fee_of_2_9_percent_plus_30_cents_at_least_50_cents_an_event() -> None:
    card = Percentage(
        percent=Decimal("2.9"), of="events", fee_per_event=Decimal("0.30"),
        minimum_per_event=Decimal("0.50"), maximum_per_event=Decimal("5.00"),
    )  # fmt: skip
    # 5.00 -> 0.445 -> 0.50; 100.00 -> 3.20; 1,000.00 -> 29.30 -> 5.00
    assert cost(card, 0, events=[Decimal(5), Decimal(100), Decimal(1000)]) == Decimal("8.70")
    with pytest.raises(InvalidInputError) as refused:
        price_of(card, Decimal(0), base=Decimal(100))
    assert refused.value.field == "events"
