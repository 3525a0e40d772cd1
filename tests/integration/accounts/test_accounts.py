"""Account use cases on a real database: hierarchy, payers, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts import service
from billstream.accounts.models import Account, BillingMode
from billstream.accounts.schemas import AccountTreeNode, AccountUpdate
from billstream.core.clock import FakeClock
from billstream.core.errors import ConflictError, InvalidInputError, NotFoundError
from billstream.tenants.models import Tenant
from tests.factories import make_account, make_tenant, scope_of

BILLED = BillingMode.BILLED_TO_PARENT


def org_abc(session: Session, clock: FakeClock, tenant: Tenant) -> dict[str, Account]:
    """SPEC C2: ABC → Sales, Support, HR; Support → Tier1, Tier2; ABC and Support pay."""
    abc = make_account(session, clock, tenant, name="ABC", external_id="crm-abc")
    sales = make_account(
        session, clock, tenant, name="Sales", parent_id=abc.id, billing_mode=BILLED
    )
    support = make_account(session, clock, tenant, name="Support", parent_id=abc.id)
    hr = make_account(session, clock, tenant, name="HR", parent_id=abc.id, billing_mode=BILLED)
    tier1 = make_account(
        session, clock, tenant, name="Tier1", parent_id=support.id, billing_mode=BILLED
    )
    tier2 = make_account(
        session, clock, tenant, name="Tier2", parent_id=support.id, billing_mode=BILLED
    )
    return {
        "ABC": abc,
        "Sales": sales,
        "Support": support,
        "HR": hr,
        "Tier1": tier1,
        "Tier2": tier2,
    }


def payers_by_name(node: AccountTreeNode, names: dict[str, str]) -> dict[str, str]:
    out = {node.name: names[node.paying_account_id]}
    for child in node.children:
        out |= payers_by_name(child, names)
    return out


def test_org_abc_tree_sends_each_account_to_its_nearest_payer(
    session: Session, clock: FakeClock
) -> None:
    # given Org ABC built through the services
    tenant = make_tenant(session, clock, currency="EUR")
    org = org_abc(session, clock, tenant)
    names = {a.id: n for n, a in org.items()}
    # when the tree is read from the top
    tree = service.account_tree(session, scope=scope_of(session, tenant), account_id=org["ABC"].id)
    # then ABC pays for ABC, Sales and HR; Support for Support, Tier1 and Tier2
    assert payers_by_name(tree, names) == {
        "ABC": "ABC",
        "Sales": "ABC",
        "HR": "ABC",
        "Support": "Support",
        "Tier1": "Support",
        "Tier2": "Support",
    }
    assert [c.name for c in tree.children] == ["HR", "Sales", "Support"]
    assert [c.name for c in tree.children[2].children] == ["Tier1", "Tier2"]
    # and a subtree read from below still knows who pays above it
    sub = service.account_tree(session, scope=scope_of(session, tenant), account_id=org["HR"].id)
    assert sub.paying_account_id == org["ABC"].id
    assert service.paying_account_of(session, org["Tier2"]) == org["Support"].id
    # and accounts billed to a parent take the payer's currency
    assert {a.currency for a in org.values()} == {"EUR"}


def test_billed_to_parent_without_parent_is_refused(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock)
    with pytest.raises(InvalidInputError) as raised:
        make_account(session, clock, tenant, billing_mode=BILLED)
    assert (raised.value.field, raised.value.code) == ("parent_id", "account_no_parent_to_bill")


def test_a_currency_other_than_the_payers_is_refused(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, currency="USD")
    payer = make_account(session, clock, tenant, currency="GBP")
    dept = make_account(session, clock, tenant, parent_id=payer.id, billing_mode=BILLED)
    with pytest.raises(InvalidInputError) as raised:
        make_account(session, clock, tenant, parent_id=dept.id, billing_mode=BILLED, currency="USD")
    assert (raised.value.field, raised.value.code) == ("currency", "account_currency_mismatch")
    assert dept.currency == "GBP"


def test_external_ids_are_unique_per_tenant(session: Session, clock: FakeClock) -> None:
    one = make_tenant(session, clock)
    other = make_tenant(session, clock)
    make_account(session, clock, one, external_id="crm-1")
    with pytest.raises(ConflictError) as raised:
        make_account(session, clock, one, external_id="crm-1")
    assert (raised.value.field, raised.value.code) == ("external_id", "account_external_id_taken")
    # the same external id in another tenant is fine
    assert make_account(session, clock, other, external_id="crm-1").tenant_id == other.id


def test_changing_an_external_id_to_a_taken_one_is_refused(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock)
    make_account(session, clock, tenant, external_id="crm-1")
    second = make_account(session, clock, tenant, external_id="crm-2")
    with pytest.raises(ConflictError):
        service.update_account(
            session, clock=clock, scope=scope_of(session, tenant), account_id=second.id,
            data=AccountUpdate(external_id="crm-1"),
        )  # fmt: skip


def test_an_unknown_parent_or_a_parent_in_another_tenant_is_not_found(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock)
    other = make_tenant(session, clock)
    foreign = make_account(session, clock, other)
    for parent_id in ("acc_unknown", foreign.id):
        with pytest.raises(NotFoundError) as raised:
            make_account(session, clock, tenant, parent_id=parent_id)
        assert raised.value.field == "parent_id"


def test_a_move_that_makes_a_cycle_is_refused_and_changes_nothing(
    session: Session, clock: FakeClock
) -> None:
    # given Org ABC
    tenant = make_tenant(session, clock)
    org = org_abc(session, clock, tenant)
    before = {a.id: (a.parent_id, a.billing_mode) for a in session.scalars(select(Account))}
    scope = scope_of(session, tenant)
    # when ABC is put under its grandchild Tier1, or Support under itself
    for account, parent in (("ABC", "Tier1"), ("Support", "Support"), ("Support", "Tier2")):
        with pytest.raises(ConflictError) as raised:
            service.move_account(
                session, clock=clock, scope=scope, account_id=org[account].id,
                parent_id=org[parent].id,
            )  # fmt: skip
        # then the move is refused as a cycle ...
        assert (raised.value.code, raised.value.field) == ("account_cycle", "parent_id")
    # ... and nothing changed
    session.expire_all()
    after = {a.id: (a.parent_id, a.billing_mode) for a in session.scalars(select(Account))}
    assert after == before


def test_a_valid_move_changes_the_payer(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock)
    org = org_abc(session, clock, tenant)
    scope = scope_of(session, tenant)
    moved = service.move_account(
        session, clock=clock, scope=scope, account_id=org["Tier1"].id, parent_id=org["HR"].id
    )
    assert moved.parent_id == org["HR"].id
    assert service.paying_account_of(session, moved) == org["ABC"].id


def test_moving_to_the_top_while_billed_to_parent_is_refused(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock)
    org = org_abc(session, clock, tenant)
    with pytest.raises(InvalidInputError) as raised:
        service.move_account(
            session, clock=clock, scope=scope_of(session, tenant), account_id=org["HR"].id,
            parent_id=None,
        )  # fmt: skip
    assert raised.value.code == "account_no_parent_to_bill"


def test_an_update_of_optional_fields_normalises_them(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, locale="en_GB")
    account = make_account(session, clock, tenant, email="a@example.com")
    updated = service.update_account(
        session, clock=clock, scope=scope_of(session, tenant), account_id=account.id,
        data=AccountUpdate.model_validate(
            {"phone": "020 7123 4567", "email": None, "billing_cycle": "anniversary",
             "billing_day": 15, "billing_address": {"country": "gb", "city": "London"}}
        ),
    )  # fmt: skip
    assert (updated.phone, updated.email) == ("+442071234567", None)
    assert (updated.billing_cycle, updated.billing_day) == ("anniversary", 15)
    assert updated.billing_address == {"country": "GB", "city": "London"}
    assert updated.language == "en_GB"


def test_delete_is_refused_while_the_account_has_children(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock)
    org = org_abc(session, clock, tenant)
    scope = scope_of(session, tenant)
    with pytest.raises(ConflictError) as raised:
        service.delete_account(session, scope=scope, account_id=org["Support"].id)
    assert raised.value.code == "account_has_children"
    # a leaf goes
    service.delete_account(session, scope=scope, account_id=org["Tier1"].id)
    with pytest.raises(NotFoundError):
        service.get_account(session, scope=scope, account_id=org["Tier1"].id)


def test_another_tenants_account_is_not_found(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock)
    other = make_tenant(session, clock)
    foreign = make_account(session, clock, other)
    with pytest.raises(NotFoundError) as raised:
        service.get_account(session, scope=scope_of(session, tenant), account_id=foreign.id)
    assert raised.value.field == "account_id"
    assert service.list_accounts(session, scope=scope_of(session, tenant)).items == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"language": "xx_QQ_ZZ"}, "language"),
        ({"currency": "XXQ"}, "currency"),
        ({"billing_cycle": "anniversary"}, "billing_day"),
        ({"billing_cycle": "calendar", "billing_day": 15}, "billing_day"),
        ({"billing_address": {"country": "ZZ"}}, "billing_address.country"),
    ],
)
def test_invalid_fields_are_refused_naming_the_field(
    session: Session, clock: FakeClock, fields: dict[str, Any], field: str
) -> None:
    tenant = make_tenant(session, clock)
    with pytest.raises(InvalidInputError) as raised:
        make_account(session, clock, tenant, **fields)
    assert raised.value.field == field
