"""Tenant use cases on a real database: the tree, resolved settings, and refusals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from billstream.core.clock import FakeClock
from billstream.core.errors import ConflictError, InvalidInputError, NotFoundError
from billstream.tenants import service
from billstream.tenants.errors import TenantErrorCode
from billstream.tenants.models import Tenant
from tests.factories import make_tenant, scope_of


def tree(session: Session, clock: FakeClock) -> dict[str, Tenant]:
    """group (USD, New York) → uk (GBP, en_GB) → uk-north; group → us."""
    group = make_tenant(
        session, clock, slug="group", currency="USD", timezone="America/New_York",
        brand_name="Group", brand_primary_color="#AABBCC",
    )  # fmt: skip
    uk = make_tenant(session, clock, parent=group, slug="uk", currency="GBP", locale="en-GB")
    north = make_tenant(session, clock, parent=uk, slug="uk-north", brand_name="North")
    us = make_tenant(session, clock, parent=group, slug="us")
    return {"group": group, "uk": uk, "uk-north": north, "us": us}


def test_a_grandchild_resolves_settings_through_the_tree(
    session: Session, clock: FakeClock
) -> None:
    # given a group, a UK brand and a northern sub-brand
    t = tree(session, clock)
    # when the sub-brand's settings are resolved through the service
    resolved = service.resolved_settings(session, t["uk-north"].id)
    # then each value comes from the nearest tenant that sets it
    assert (resolved.currency, resolved.locale, resolved.timezone) == (
        "GBP",
        "en_GB",
        "America/New_York",
    )
    assert (resolved.branding.name, resolved.branding.primary_color) == ("North", "#aabbcc")
    assert resolved.sources == {
        "currency": t["uk"].id,
        "timezone": t["group"].id,
        "locale": t["uk"].id,
        "invoice_prefix": "default",
        "invoice_format": "default",
        "line_precision": "default",
        "proration_basis": "default",
        "branding.name": t["uk-north"].id,
        "branding.primary_color": t["group"].id,
    }


def test_sources_outside_the_callers_scope_read_inherited(
    session: Session, clock: FakeClock
) -> None:
    t = tree(session, clock)
    resolved = service.resolved_settings(
        session, t["uk-north"].id, scope=scope_of(session, t["uk"])
    )
    assert resolved.sources["currency"] == t["uk"].id
    assert resolved.sources["timezone"] == "inherited"
    assert resolved.sources["invoice_prefix"] == "default"


def test_subtree_ids_and_ancestor_chain(session: Session, clock: FakeClock) -> None:
    t = tree(session, clock)
    assert service.subtree_ids(session, t["group"].id) == {x.id for x in t.values()}
    assert service.subtree_ids(session, t["uk"].id) == {t["uk"].id, t["uk-north"].id}
    assert service.subtree_ids(session, t["us"].id) == {t["us"].id}
    assert [x.slug for x in service.ancestor_chain(session, t["uk-north"].id)] == [
        "group",
        "uk",
        "uk-north",
    ]
    with pytest.raises(NotFoundError) as raised:
        service.ancestor_chain(session, "ten_unknown")
    assert raised.value.field == "tenant_id"


def test_a_setting_set_to_null_inherits_again(session: Session, clock: FakeClock) -> None:
    t = tree(session, clock)
    scope = scope_of(session, t["group"])
    service.update_tenant(
        session, clock=clock, scope=scope, tenant_id=t["uk"].id, changes={"currency": None}
    )
    assert service.resolved_settings(session, t["uk-north"].id).currency == "USD"


def test_a_top_level_tenant_cannot_drop_its_currency(session: Session, clock: FakeClock) -> None:
    t = tree(session, clock)
    with pytest.raises(InvalidInputError) as raised:
        service.update_tenant(
            session,
            clock=clock,
            scope=scope_of(session, t["group"]),
            tenant_id=t["group"].id,
            changes={"currency": None},
        )
    assert (raised.value.field, raised.value.code) == ("currency", "tenant_currency_required")


def test_a_root_without_currency_is_refused(session: Session, clock: FakeClock) -> None:
    with pytest.raises(InvalidInputError) as raised:
        service.create_tenant(session, clock=clock, slug="nocur", name="No currency")
    assert (raised.value.field, raised.value.code) == (
        "currency",
        TenantErrorCode.CURRENCY_REQUIRED,
    )


def test_a_taken_slug_is_a_conflict(session: Session, clock: FakeClock) -> None:
    make_tenant(session, clock, slug="acme")
    with pytest.raises(ConflictError) as raised:
        make_tenant(session, clock, slug="acme")
    assert (raised.value.field, raised.value.code) == ("slug", "tenant_slug_taken")


def test_an_unknown_parent_is_not_found(session: Session, clock: FakeClock) -> None:
    with pytest.raises(NotFoundError) as raised:
        service.create_tenant(session, clock=clock, slug="x", name="X", parent_id="ten_nope")
    assert raised.value.field == "parent_id"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"locale": "xx_YY_ZZ"}, "locale"),
        ({"currency": "DOLLARS"}, "currency"),
        ({"invoice_format": "{prefix}{year}"}, "invoice_format"),
        ({"invoice_format": "{prefix}{seq}{customer}"}, "invoice_format"),
        ({"brand_primary_color": "red"}, "brand_primary_color"),
        ({"brand_accent_color": "#12345"}, "brand_accent_color"),
        ({"line_precision": 7}, "line_precision"),
        ({"colour": "#000000"}, "colour"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(
    session: Session, clock: FakeClock, settings: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        make_tenant(session, clock, **settings)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Nowhere/Town"}, "timezone"),
        ({"brand_primary_color": "#GGGGGG"}, "brand_primary_color"),
        ({"name": "  "}, "name"),
        ({"slug": "renamed"}, "slug"),
    ],
)
def test_invalid_changes_are_refused_naming_the_field(
    session: Session, clock: FakeClock, changes: dict[str, Any], field: str
) -> None:
    tenant = make_tenant(session, clock)
    with pytest.raises(InvalidInputError) as raised:
        service.update_tenant(
            session, clock=clock, scope=scope_of(session, tenant), tenant_id=tenant.id,
            changes=changes,
        )  # fmt: skip
    assert raised.value.field == field


@pytest.mark.parametrize("slug", ["Upper", "-dash", "", "a" * 64, "has space"])
def test_a_malformed_slug_is_refused(session: Session, clock: FakeClock, slug: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        make_tenant(session, clock, slug=slug)
    assert raised.value.field == "slug"


def test_a_scope_sees_only_its_subtree(session: Session, clock: FakeClock) -> None:
    t = tree(session, clock)
    uk_scope = scope_of(session, t["uk"])
    listed = service.list_tenants(session, scope=uk_scope).items
    assert sorted(x.slug for x in listed) == ["uk", "uk-north"]
    with pytest.raises(NotFoundError):
        service.get_tenant(session, scope=uk_scope, tenant_id=t["us"].id)
