"""Catalogue use cases: apply a catalogue file, read it, and price a plan's charges."""

from billstream.catalog.document import CatalogDocument, load_catalog_yaml
from billstream.catalog.kinds import Outcome
from billstream.catalog.service.applying import AppliedItem, ApplyReport, apply_catalog
from billstream.catalog.service.pricing import (
    ADJUSTMENTS,
    PRICE_MODEL,
    ChargeSnapshot,
    PlanSnapshot,
    decimals,
    get_plan,
    included_quantities,
    resolve_charge_prices,
)
from billstream.catalog.service.reading import (
    charges_by_plan,
    get_plan_row,
    get_product,
    list_plan_prices,
    list_plans,
    list_products,
    plan_charges,
)

__all__ = [
    "ADJUSTMENTS",
    "PRICE_MODEL",
    "AppliedItem",
    "ApplyReport",
    "CatalogDocument",
    "ChargeSnapshot",
    "Outcome",
    "PlanSnapshot",
    "apply_catalog",
    "charges_by_plan",
    "decimals",
    "get_plan",
    "get_plan_row",
    "get_product",
    "included_quantities",
    "list_plan_prices",
    "list_plans",
    "list_products",
    "load_catalog_yaml",
    "plan_charges",
    "resolve_charge_prices",
]
