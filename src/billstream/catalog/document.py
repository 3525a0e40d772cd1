"""The declarative catalogue file: its shape, and reading it from YAML or JSON text.

The shape is documented with a full example in docs/catalog.md. Reading never loses a digit:
numbers with a fraction are read as `Decimal` from their text, never through a float. Every
error names its path in the file (``plans[2].charges[0].prices[1].model.tiers[1].up_to``).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated, Any, get_args

import yaml
from pydantic import ConfigDict, Field, ValidationError, model_validator

from billstream.catalog.adjustments import Adjustment
from billstream.catalog.errors import CatalogErrorCode
from billstream.catalog.kinds import ChargeTiming, ProductKind
from billstream.catalog.price_models import PriceModel
from billstream.core.bounds import Allowance, Amount, Day
from billstream.core.errors import InvalidInputError
from billstream.core.inputs import Input
from billstream.core.periods import Cadence

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Currency = Annotated[str, Field(min_length=3, max_length=3)]


class Entry(Input):
    model_config = ConfigDict(frozen=True)


def _check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError("sellable_to is before sellable_from")


class PriceEntry(Entry):
    """One version of a price in one currency."""

    currency: Currency
    effective_from: Day | None = Field(
        default=None, description="Default: the file's effective_from"
    )
    model: PriceModel
    adjustments: list[Adjustment] = Field(
        default_factory=list, description="Discounts and fees, each on what the previous left"
    )


class Target(Entry):
    """What a brand or customer price is for: a product everywhere, or one plan's charge."""

    product: Code | None = None
    plan: Code | None = None
    charge: Code | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        if self.product is None and (self.plan is None or self.charge is None):
            raise ValueError("give a product, or a plan and one of its charges")
        if self.product is not None and (self.plan is not None or self.charge is not None):
            raise ValueError("give a product or a plan charge, not both")
        return self


class ListPrice(PriceEntry):
    """A price of the tenant's default price list."""

    product: Code


class BrandPrice(Target, PriceEntry):
    brand: str = Field(min_length=1, max_length=64, description="The brand tenant's slug")


class CustomerPrice(Target, PriceEntry):
    account: str = Field(min_length=1, max_length=100, description="The account's external_id")
    tenant: str | None = Field(
        default=None, description="The account's tenant slug, when external ids repeat"
    )


class ProductEntry(Entry):
    code: Code
    name: Name
    kind: ProductKind
    characteristics: dict[str, Any] = Field(default_factory=dict)
    sellable_from: Day | None = None
    sellable_to: Day | None = None

    @model_validator(mode="after")
    def _dates(self) -> ProductEntry:
        _check_dates(self.sellable_from, self.sellable_to)
        return self


class ChargeEntry(Entry):
    code: Code
    product: Code
    name: Name | None = Field(default=None, description="Default: the product's name")
    timing: ChargeTiming = ChargeTiming.ADVANCE
    cadence: Cadence = Cadence.MONTHLY
    addon: bool = False
    prices: list[PriceEntry] = Field(default_factory=list)
    commitment_prices: list[PriceEntry] = Field(
        default_factory=list, description="Prices while the subscription is in its commitment"
    )


class PlanEntry(Entry):
    code: Code
    name: Name
    currencies: list[Currency] = Field(min_length=1)
    sellable_from: Day | None = None
    sellable_to: Day | None = None
    trial_days: int = Field(default=0, ge=0, le=3660)
    commitment_months: int = Field(default=0, ge=0, le=240)
    early_termination_fee: dict[str, Amount] = Field(default_factory=dict)
    setup_fee: dict[str, Amount] = Field(default_factory=dict)
    included: dict[str, Allowance] = Field(default_factory=dict)
    charges: list[ChargeEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates(self) -> PlanEntry:
        _check_dates(self.sellable_from, self.sellable_to)
        return self


class CatalogDocument(Entry):
    """A tenant's catalogue as a file declares it. Items the file leaves out are kept."""

    effective_from: Day | None = Field(
        default=None, description="The date prices without their own effective_from start"
    )
    products: list[ProductEntry] = Field(default_factory=list)
    price_list: list[ListPrice] = Field(default_factory=list)
    plans: list[PlanEntry] = Field(default_factory=list)
    brand_prices: list[BrandPrice] = Field(default_factory=list)
    customer_prices: list[CustomerPrice] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> CatalogDocument:
        if not (
            self.products
            or self.price_list
            or self.plans
            or self.brand_prices
            or self.customer_prices
        ):
            raise ValueError("the catalogue declares nothing (no products, prices or plans)")
        return self


# --- reading -------------------------------------------------------------------------------


class _DecimalLoader(yaml.SafeLoader):
    """`yaml.SafeLoader`, except that numbers with a fraction become exact Decimals."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a finite number", node.start_mark
        )
    return value


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


@cache
def _price_model_tags() -> frozenset[str]:
    union = get_args(PriceModel)[0]
    return frozenset(
        tag
        for member in get_args(union)
        for tag in get_args(member.model_fields["type"].annotation)
    )


def error_path(loc: tuple[int | str, ...]) -> str:
    """A Pydantic location as a path in the file: ``plans[2].charges[0].prices``."""
    tags = _price_model_tags()
    out = ""
    previous: int | str | None = None
    for part in loc:
        if previous == "model" and part in tags:
            previous = part
            continue  # the discriminator Pydantic inserts: not a key of the file
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
        previous = part
    return out


def _reason(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def parse_catalog(data: Any) -> CatalogDocument:
    """Validate parsed data (a mapping) as a catalogue document."""
    if not isinstance(data, dict):
        raise InvalidInputError(
            "a catalogue file is a mapping (products, price_list, plans, ...)",
            code=CatalogErrorCode.INVALID_FILE,
            field="document",
        )
    try:
        return CatalogDocument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = exc.error_count() - 1
        detail = _reason(first["msg"]) + (f" (and {more} more errors)" if more else "")
        path = error_path(tuple(first["loc"])) or "document"
        raise InvalidInputError(detail, code=CatalogErrorCode.INVALID_FILE, field=path) from None


def load_catalog_yaml(text: str) -> CatalogDocument:
    """Read a catalogue file (YAML, or JSON, which YAML reads too)."""
    try:
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInputError(
            f"not valid YAML: {problem}", code=CatalogErrorCode.INVALID_FILE, field=where
        ) from None
    return parse_catalog(data)


def load_catalog_json(text: str | bytes) -> CatalogDocument:
    """Read a catalogue sent as JSON; numbers with a fraction become exact Decimals."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"not valid JSON: {exc}", code=CatalogErrorCode.INVALID_FILE, field="document"
        ) from None
    return parse_catalog(data)
