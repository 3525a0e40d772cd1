"""Settings inheritance down the tenant tree (`resolve_settings`), a pure function."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.tenants.settings import (
    DEFAULT_INVOICE_FORMAT,
    Branding,
    ResolvedSettings,
    TenantOverrides,
    format_invoice_number,
    resolve_settings,
    settings_in_force_of_all,
)
from billstream.tenants.tree import TenantTree

SCALARS = (
    "currency",
    "timezone",
    "locale",
    "invoice_prefix",
    "invoice_format",
    "line_precision",
    "proration_basis",
)


def test_a_root_with_only_a_currency_gets_the_defaults() -> None:
    resolved = resolve_settings([("t_root", TenantOverrides(currency="USD"))])
    assert resolved == ResolvedSettings(
        currency="USD",
        timezone="UTC",
        locale="en_US",
        invoice_prefix="INV-",
        invoice_format=DEFAULT_INVOICE_FORMAT,
        line_precision=None,
        proration_basis="actual_days",
        branding=Branding(),
        sources={
            "currency": "t_root",
            "timezone": "default",
            "locale": "default",
            "invoice_prefix": "default",
            "invoice_format": "default",
            "line_precision": "default",
            "proration_basis": "default",
        },
    )


def test_a_child_override_wins_and_what_it_leaves_unset_is_inherited() -> None:
    # given a root in the US and a UK brand overriding currency, locale and brand name
    root = TenantOverrides(
        currency="USD",
        timezone="America/New_York",
        line_precision=4,
        branding=Branding(name="Acme", primary_color="#112233"),
    )
    brand = TenantOverrides(
        currency="GBP",
        locale="en_GB",
        proration_basis="thirty_day_month",
        branding=Branding(name="Acme UK"),
    )
    # when the brand's settings are resolved
    resolved = resolve_settings([("t_root", root), ("t_uk", brand)])
    # then the brand's values win, the rest comes from the root, and sources say who set what
    assert (resolved.currency, resolved.locale) == ("GBP", "en_GB")
    assert (resolved.timezone, resolved.line_precision) == ("America/New_York", 4)
    assert resolved.proration_basis == "thirty_day_month"
    assert resolved.branding == Branding(name="Acme UK", primary_color="#112233")
    assert resolved.sources == {
        "currency": "t_uk",
        "timezone": "t_root",
        "locale": "t_uk",
        "invoice_prefix": "default",
        "invoice_format": "default",
        "line_precision": "t_root",
        "proration_basis": "t_uk",
        "branding.name": "t_uk",
        "branding.primary_color": "t_root",
    }


def test_a_grandchild_inherits_through_a_parent_that_sets_nothing() -> None:
    chain = [
        ("t_root", TenantOverrides(currency="EUR", invoice_prefix="R-")),
        ("t_mid", TenantOverrides()),
        ("t_leaf", TenantOverrides(timezone="Europe/Paris")),
    ]
    resolved = resolve_settings(chain)
    assert (resolved.currency, resolved.invoice_prefix, resolved.timezone) == (
        "EUR",
        "R-",
        "Europe/Paris",
    )
    assert resolved.sources["invoice_prefix"] == "t_root"
    assert resolved.sources["timezone"] == "t_leaf"


def test_line_precision_zero_is_an_override_not_an_unset_value() -> None:
    chain = [
        ("t_root", TenantOverrides(currency="USD", line_precision=4)),
        ("t_leaf", TenantOverrides(line_precision=0)),
    ]
    resolved = resolve_settings(chain)
    assert resolved.line_precision == 0
    assert resolved.sources["line_precision"] == "t_leaf"


def test_a_root_without_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="no tenant on the chain to t_leaf sets a currency"):
        resolve_settings([("t_root", TenantOverrides()), ("t_leaf", TenantOverrides())])


def test_an_empty_chain_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one tenant"):
        resolve_settings([])


def test_invoice_numbers_follow_the_resolved_format() -> None:
    resolved = resolve_settings([("t", TenantOverrides(currency="USD", invoice_prefix="UK-"))])
    assert format_invoice_number(resolved, year=2026, seq=42) == "UK-2026-000042"


# --- property: resolving a chain equals applying overrides one by one ----------------------

texts = st.none() | st.sampled_from(["a", "b", "c"])
brandings = st.builds(
    Branding,
    name=texts,
    address=texts,
    logo_url=texts,
    primary_color=st.none() | st.sampled_from(["#000000", "#ffffff"]),
    accent_color=st.none() | st.sampled_from(["#123456"]),
    footer=texts,
)
overrides = st.builds(
    TenantOverrides,
    currency=st.none() | st.sampled_from(["USD", "EUR", "JPY"]),
    timezone=st.none() | st.sampled_from(["UTC", "Europe/London", "Asia/Tokyo"]),
    locale=st.none() | st.sampled_from(["en_US", "en_GB", "fr_FR"]),
    invoice_prefix=texts,
    invoice_format=st.none() | st.sampled_from(["{prefix}{seq}", "{year}/{seq:04d}"]),
    line_precision=st.none() | st.integers(min_value=0, max_value=6),
    proration_basis=st.none() | st.sampled_from(["actual_days", "thirty_day_month"]),
    branding=brandings,
)


def apply_one_by_one(
    chain: list[tuple[str, TenantOverrides]],
) -> tuple[dict[str, object], dict[str, str]]:
    """The reference: start from the defaults, let each tenant overwrite what it sets."""
    values: dict[str, object] = {
        "timezone": "UTC",
        "locale": "en_US",
        "invoice_prefix": "INV-",
        "invoice_format": DEFAULT_INVOICE_FORMAT,
        "line_precision": None,
        "proration_basis": "actual_days",
    }
    sources = {name: "default" for name in values}
    for tenant_id, tenant in chain:
        for name in SCALARS:
            if getattr(tenant, name) is not None:
                values[name] = getattr(tenant, name)
                sources[name] = tenant_id
        for f in fields(Branding):
            if getattr(tenant.branding, f.name) is not None:
                values[f"branding.{f.name}"] = getattr(tenant.branding, f.name)
                sources[f"branding.{f.name}"] = tenant_id
    return values, sources


@settings(max_examples=200)
@given(root_currency=st.sampled_from(["USD", "GBP"]), rest=st.lists(overrides, max_size=6))
def test_resolving_a_chain_equals_applying_overrides_one_by_one(
    root_currency: str, rest: list[TenantOverrides]
) -> None:
    chain = [("t0", TenantOverrides(currency=root_currency))]
    chain += [(f"t{i + 1}", o) for i, o in enumerate(rest)]
    values, sources = apply_one_by_one(chain)
    resolved = resolve_settings(chain)
    for name in SCALARS:
        assert getattr(resolved, name) == values[name]
    for f in fields(Branding):
        assert getattr(resolved.branding, f.name) == values.get(f"branding.{f.name}")
    assert resolved.sources == sources


@settings(max_examples=100)
@given(root_currency=st.sampled_from(["USD", "GBP"]), rest=st.lists(overrides, max_size=6))
def test_the_settings_of_a_whole_tree_equal_each_chains(
    root_currency: str, rest: list[TenantOverrides]
) -> None:
    # given a tree where tenant i's parent is tenant i // 2
    own = {"t0": TenantOverrides(currency=root_currency)}
    own |= {f"t{i + 1}": o for i, o in enumerate(rest)}
    tree = TenantTree.of((t, None if t == "t0" else f"t{int(t[1:]) // 2}") for t in own)
    # when every tenant's settings are resolved at once
    resolved = settings_in_force_of_all(tree, own)
    # then each equals the settings of its own chain
    for tenant_id in own:
        chain = [(t, own[t]) for t in reversed(tree.chain(tenant_id))]
        assert resolved[tenant_id] == resolve_settings(chain)
