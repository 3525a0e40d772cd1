"""Rating use cases: rate card import, rating rules (rounding, tiers, margins), rating a period
(and re-rating), reading rated usage."""

from billstream.rating.service.cards import CardImport, import_rate_card, retail_rates
from billstream.rating.service.in_force import margin_rules_on, rounding_rules_on, tier_sets_on
from billstream.rating.service.margin_rules import (
    end_margin_rule,
    list_margin_rules,
    set_margin_rule,
)
from billstream.rating.service.reading import get_run, list_rated_usage
from billstream.rating.service.rules import (
    list_rounding_rules,
    list_tiers,
    set_rounding_rule,
    set_tiers,
    tiers_in_force,
)
from billstream.rating.service.runs import RatingRequest, rate_period
from billstream.rating.service.storage import store_rated_rows

__all__ = [
    "CardImport",
    "RatingRequest",
    "end_margin_rule",
    "get_run",
    "import_rate_card",
    "list_margin_rules",
    "list_rated_usage",
    "list_rounding_rules",
    "list_tiers",
    "margin_rules_on",
    "rate_period",
    "retail_rates",
    "rounding_rules_on",
    "set_margin_rule",
    "set_rounding_rule",
    "set_tiers",
    "store_rated_rows",
    "tier_sets_on",
    "tiers_in_force",
]
