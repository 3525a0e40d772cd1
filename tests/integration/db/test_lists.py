"""`among`: a column among a long list of values, on each backend."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.db.lists import SEPARATOR, among
from tests.factories import make_account, make_tenant


def _found(session: Session, values: list[str]) -> set[str]:
    return set(session.scalars(select(Account.name).where(among(session, Account.name, values))))


@pytest.mark.parametrize(
    "names",
    [
        ["Ann", "Bob"],
        [f"x{i}" for i in range(3000)] + ["Bob"],  # more than one chunk's worth
        ["Ann", f"Odd{SEPARATOR}name"],  # a value holding the separator
        [""],  # the one empty value
        [],
    ],
)
def test_among_finds_exactly_the_listed_values(
    session: Session, clock: FakeClock, names: list[str]
) -> None:
    # given accounts named as some of the values, and one that is not listed (the odd names
    # written in SQL: the services refuse them)
    tenant = make_tenant(session, clock)
    for name in ("Ann", "Bob", f"Odd{SEPARATOR}name", "", "Other"):
        account = make_account(session, clock, tenant, name="Named")
        session.execute(update(Account).where(Account.id == account.id).values(name=name))

    # when selected among the names, then exactly the listed ones come back
    assert _found(session, names) == set(names) & {"Ann", "Bob", f"Odd{SEPARATOR}name", ""}
