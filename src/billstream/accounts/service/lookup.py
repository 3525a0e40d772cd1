"""Accounts as an operator names them at the command line: by id or by external id, across
every tenant (no scope: the operator has database access)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.errors import NotFoundError


def find_account(session: Session, ref: str, *, field: str = "account") -> Account:
    """The account `ref` names: its id, or an external id used in one tenant only."""
    account = session.get(Account, ref)
    if account is not None:
        return account
    found = list(session.scalars(select(Account).where(Account.external_id == ref).limit(2)))
    if len(found) == 1:
        return found[0]
    reason = "is used in several tenants; give the account id" if found else "is unknown"
    raise NotFoundError(f"account {ref!r} {reason}", field=field)


def owners_of(session: Session, account_ids: Collection[str]) -> set[str]:
    """The tenants that hold the accounts `account_ids`."""
    return set(session.scalars(select(Account.tenant_id).where(Account.id.in_(account_ids))))


def account_names(session: Session, account_ids: Collection[str]) -> dict[str, str]:
    """The name of each account of `account_ids` (an unknown id is left out)."""
    rows = session.execute(select(Account.id, Account.name).where(Account.id.in_(account_ids)))
    return {account_id: name for account_id, name in rows}
