"""Row locks: taken in id order on PostgreSQL, only through `db.locks`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

import billstream
from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.db.locks import lock_rows, locked
from tests.factories import make_account, make_tenant

SRC = Path(billstream.__file__).resolve().parent
LOCKS = "db/locks.py"


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    sent: list[str] = []
    bind = session.connection()

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(bind, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(bind, "before_cursor_execute", record)


def test_rows_are_locked_in_id_order(session: Session, clock: FakeClock, backend: str) -> None:
    # given two accounts
    tenant = make_tenant(session, clock)
    ids = [make_account(session, clock, tenant).id for _ in range(2)]
    # when both are locked, named in reverse order (and one twice)
    with statements(session) as sent:
        lock_rows(session, Account, [ids[1], ids[0], ids[1]])
    # then PostgreSQL locks them in id order; SQLite, whose transaction already holds the
    # database's one writer lock, is sent nothing
    if backend == "postgresql":
        assert len(sent) == 1
        assert sent[0].rstrip().endswith("ORDER BY accounts.id FOR UPDATE")
    else:
        assert sent == []


def test_a_locked_statement_reads_rows_as_stored(session: Session, clock: FakeClock) -> None:
    # given an account whose name the session holds, changed in the database since
    tenant = make_tenant(session, clock)
    account = make_account(session, clock, tenant, name="Before")
    session.connection().execute(
        Account.__table__.update().where(Account.id == account.id).values(name="After")
    )
    # when it is read through a locking statement
    [row] = session.scalars(locked(select(Account).where(Account.id == account.id)))
    # then the session's copy is the stored one
    assert row is account
    assert account.name == "After"


# --- the rule: no inline FOR UPDATE -------------------------------------------------------


def inline_locks(source: str) -> list[int]:
    """The lines of a module that lock rows without a named helper of `db.locks`."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr == "with_for_update"
    ]


def test_rows_are_locked_only_through_db_locks() -> None:
    # given every module of the source but the lock primitives
    modules = [p for p in SRC.rglob("*.py") if p.relative_to(SRC).as_posix() != LOCKS]
    # when each is searched for an inline FOR UPDATE
    found = {
        p.relative_to(SRC).as_posix(): lines
        for p in modules
        if (lines := inline_locks(p.read_text()))
    }
    # then there is none
    assert found == {}


@pytest.mark.parametrize(
    "snippet",
    [
        "session.execute(select(Account.id).where(Account.id == a).with_for_update())",
        "stmt = stmt.with_for_update(skip_locked=True)",
    ],
)
def test_the_rule_finds_an_inline_lock(snippet: str) -> None:
    assert inline_locks(snippet) == [1]
