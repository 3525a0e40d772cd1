"""Loading a use case's TenantContext on a real database: scope first, then tree and settings."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from billstream.core.clock import FakeClock
from billstream.core.errors import NotFoundError
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import load_context, operator_context
from tests.factories import make_tenant


def test_a_brand_loads_its_tree_and_the_settings_it_inherits(
    session: Session, clock: FakeClock
) -> None:
    # given a group (USD, New York) → uk (GBP) → uk-north, and group → us
    group = make_tenant(session, clock, slug="group", currency="USD", timezone="America/New_York")
    uk = make_tenant(session, clock, parent=group, slug="uk", currency="GBP")
    north = make_tenant(session, clock, parent=uk, slug="uk-north")
    make_tenant(session, clock, parent=group, slug="us")
    scope = TenantScope(
        home=uk.id, tenant_ids=frozenset({uk.id, north.id}), includes_descendants=True
    )
    # when the uk key's use case loads the context of uk
    ctx = load_context(session, scope=scope, tenant_id=uk.id)
    # then it holds uk's chain and subtree (not its sibling), and uk's resolved settings
    assert ctx.tenant_id == uk.id
    assert ctx.chain == (uk.id, group.id)
    assert sorted(ctx.tree.parents) == sorted([group.id, uk.id, north.id])
    assert ctx.tree.subtree(uk.id) == {uk.id, north.id}
    assert (ctx.currency, ctx.timezone) == ("GBP", "America/New_York")
    assert ctx.allows(north.id)
    assert not ctx.allows(group.id)


def test_an_id_outside_the_scope_is_not_found_on_the_named_field(
    session: Session, clock: FakeClock
) -> None:
    # given two top-level tenants and a key of the first
    alpha = make_tenant(session, clock, slug="alpha")
    beta = make_tenant(session, clock, slug="beta")
    scope = TenantScope(home=alpha.id, tenant_ids=frozenset({alpha.id}))
    # when its use case asks for the other's context, then: not found, as for an unknown id
    with pytest.raises(NotFoundError) as outside:
        load_context(session, scope=scope, tenant_id=beta.id, field="parent_id")
    with pytest.raises(NotFoundError) as unknown:
        load_context(session, scope=scope, tenant_id="ten_unknown", field="parent_id")
    assert (outside.value.detail, outside.value.field) == (
        f"tenant {beta.id} not found",
        "parent_id",
    )
    assert unknown.value.field == "parent_id"


def test_an_operator_context_by_slug_reaches_the_whole_subtree(
    session: Session, clock: FakeClock
) -> None:
    # given group → uk → uk-north
    group = make_tenant(session, clock, slug="group", currency="EUR", locale="de_DE")
    uk = make_tenant(session, clock, parent=group, slug="uk")
    north = make_tenant(session, clock, parent=uk, slug="uk-north")
    # when an operator names uk by its slug
    ctx = operator_context(session, "uk")
    # then its scope is uk's subtree, not its parent, and the settings are inherited
    assert ctx.tenant_id == uk.id
    assert ctx.scope == TenantScope(
        home=uk.id, tenant_ids=frozenset({uk.id, north.id}), includes_descendants=True
    )
    assert (ctx.currency, ctx.settings.locale, ctx.settings.sources["currency"]) == (
        "EUR",
        "de_DE",
        group.id,
    )
    # and by id, the same context
    assert operator_context(session, uk.id) == ctx


def test_an_unknown_operator_tenant_is_not_found(session: Session, clock: FakeClock) -> None:
    with pytest.raises(NotFoundError) as error:
        operator_context(session, "nobody")
    assert error.value.field == "tenant"
