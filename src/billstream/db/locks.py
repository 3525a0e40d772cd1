"""Row locks: the two primitives every named lock helper of a domain is built on.

A use case that writes what another may be writing at the same time locks the rows it
decides on through a helper named for what it locks (`lock_tenant`, `_lock_accounts`,
`_lock_subscription`, `take_numbers`…), built on these two, never an inline ``FOR UPDATE``.
The locks of one transaction are taken in one order, so two transactions cannot each hold
what the other waits for:

1. the tenant (`tenants.service.lock_tenant`): moves in its account tree, catalogue applies;
2. work claimed from a queue, skipping what others hold, so never waited for (bill-run items);
3. accounts, in id order (a bill-run chunk's payers);
4. the one thing a change is about: a number, a subscription, an invoice, the API keys of a
   scope (in id order), open rejects (in id order), tax rules of one name, a template;
5. counters last (`take_numbers`: an invoice number series); a bill run's own row when the
   run is finished, after its chunks.

On PostgreSQL these are ``SELECT … ORDER BY id FOR UPDATE``. SQLite has no row locks:
every transaction begins with ``BEGIN IMMEDIATE`` (`db.engine`), so it holds the database's
single writer lock from its start and the statements below read rows without locking more.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from billstream.db.lists import among

__all__ = ["lock_rows", "locked"]

S = TypeVar("S", bound=Select[Any])


def locked(stmt: S, *, skip_locked: bool = False) -> S:
    """`stmt`, locking the rows it reads until the transaction ends.

    The rows are read as committed when the lock is granted, replacing what the session
    loaded before (``populate_existing``): a decision taken under the lock sees the state
    the lock protects. `skip_locked`: rows another transaction holds are left out, not
    waited for (workers sharing a queue each take other rows). A statement reading several
    rows orders them (by id, or the key the rows are claimed in) before it is passed here.
    """
    return stmt.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)


def lock_rows(session: Session, model: Any, ids: Collection[str]) -> None:
    """Lock the rows of `model` with these ids, in id order, until the transaction ends.

    Only the ids are read: the caller loads (or refreshes) what it needs after the lock.
    On SQLite nothing is sent: the transaction's writer lock already serialises.
    """
    if not ids or session.get_bind().dialect.name != "postgresql":
        return
    wanted = sorted(set(ids))
    session.execute(
        select(model.id)
        .where(among(session, model.id, wanted))
        .order_by(model.id)
        .with_for_update()
    ).all()
