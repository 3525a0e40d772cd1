"""Accounts as an operator names them: by id or by an external id used in one tenant."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from billstream.accounts.service import account_names, find_account, owners_of
from billstream.core.clock import FakeClock
from billstream.core.errors import NotFoundError
from tests.factories import make_account, make_tenant


def test_an_account_is_found_by_id_or_by_its_external_id(
    session: Session, clock: FakeClock
) -> None:
    # given an account with an external id
    tenant = make_tenant(session, clock)
    account = make_account(session, clock, tenant, name="Acme", external_id="CRM-1")

    # when it is looked up by id and by external id, then it is found both ways
    assert find_account(session, account.id) is account
    assert find_account(session, "CRM-1") is account
    assert account_names(session, [account.id, "acc_unknown"]) == {account.id: "Acme"}
    assert owners_of(session, [account.id]) == {tenant.id}


def test_an_external_id_of_two_tenants_or_of_none_is_refused(
    session: Session, clock: FakeClock
) -> None:
    # given the same external id in two tenants
    for _ in range(2):
        make_account(session, clock, make_tenant(session, clock), external_id="CRM-2")

    # when it is looked up, then the reason says which case it is
    with pytest.raises(NotFoundError, match="used in several tenants") as several:
        find_account(session, "CRM-2")
    with pytest.raises(NotFoundError, match="is unknown") as unknown:
        find_account(session, "CRM-3")
    assert several.value.field == unknown.value.field == "account"
