"""`get_in_scope`: one tenant-owned row by id, or the same "not found" for any other."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.core.errors import NotFoundError
from billstream.tenants.models import Tenant
from billstream.tenants.repository import get_in_scope
from tests.factories import make_account, make_tenant, scope_of


def test_a_row_of_the_scope_is_found(session: Session, clock: FakeClock) -> None:
    # given an account of a tenant
    tenant = make_tenant(session, clock)
    account = make_account(session, clock, tenant)
    # when the tenant's scope looks it up by id
    found = get_in_scope(
        session, Account, account.id, scope=scope_of(session, tenant), label="account",
        field="account_id",
    )  # fmt: skip
    # then it is that account
    assert found is account


@pytest.mark.parametrize("lock", [False, True])
def test_another_tenants_row_reads_as_an_unknown_id(
    session: Session, clock: FakeClock, lock: bool
) -> None:
    # given an account of one tenant, and a sibling tenant
    owner = make_tenant(session, clock)
    other = make_tenant(session, clock)
    account = make_account(session, clock, owner)
    # when the sibling looks up that account, and an id that does not exist
    errors = []
    for row_id in (account.id, "acc_unknown"):
        with pytest.raises(NotFoundError) as caught:
            get_in_scope(
                session, Account, row_id, scope=scope_of(session, other), label="account",
                field="account_id", lock=lock,
            )  # fmt: skip
        errors.append((caught.value.detail, caught.value.field))
    # then both are the same "not found", naming the id and the request's field
    assert errors == [
        (f"account {account.id} not found", "account_id"),
        ("account acc_unknown not found", "account_id"),
    ]


def test_a_row_of_another_tenant_of_the_scope_is_not_found_in_the_named_tenant(
    session: Session, clock: FakeClock
) -> None:
    # given a group with two brands, and an account of the first brand
    group = make_tenant(session, clock)
    brand = make_tenant(session, clock, parent=group)
    sibling = make_tenant(session, clock, parent=group)
    account = make_account(session, clock, brand)
    scope = scope_of(session, group)
    # when the group names it as the sibling's
    with pytest.raises(NotFoundError) as caught:
        get_in_scope(
            session, Account, account.id, scope=scope, label="account", field="account_id",
            tenant_id=sibling.id,
        )  # fmt: skip
    # then it is not found in that tenant, though the group may see it
    assert caught.value.detail == f"account {account.id} not found in tenant {sibling.id}"
    assert get_in_scope(
        session, Account, account.id, scope=scope, label="account", field="account_id",
        tenant_id=brand.id, tenant_named="the brand",
    ) is account  # fmt: skip


def test_a_tenant_is_its_own_owner(session: Session, clock: FakeClock) -> None:
    # given a group and a brand below it
    group = make_tenant(session, clock)
    brand = make_tenant(session, clock, parent=group)
    # when the brand looks up itself and its parent
    scope = scope_of(session, brand)
    own = get_in_scope(session, Tenant, brand.id, scope=scope, label="tenant", field="tenant_id")
    with pytest.raises(NotFoundError) as caught:
        get_in_scope(session, Tenant, group.id, scope=scope, label="tenant", field="tenant_id")
    # then it finds itself, and its parent is not found
    assert own is brand
    assert caught.value.detail == f"tenant {group.id} not found"


def test_a_locked_row_is_read_as_stored(session: Session, clock: FakeClock) -> None:
    # given an account loaded in the session, then renamed in the database behind its back
    tenant = make_tenant(session, clock)
    account = make_account(session, clock, tenant, name="Before")
    session.execute(update(Account).where(Account.id == account.id).values(name="After"))
    # when it is looked up with a lock
    locked = get_in_scope(
        session, Account, account.id, scope=scope_of(session, tenant), label="account",
        field="account_id", lock=True,
    )  # fmt: skip
    # then the session's copy shows what is stored
    assert locked.name == "After"
