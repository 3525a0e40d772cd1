"""Two keys of a tenant revoking each other at once, on PostgreSQL: one wins, the other is
refused, and the tenant keeps a key.

Each revocation locks the scope's active keys in id order before checking the rules, so the
second waits for the first's commit, then finds its own key revoked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from billstream.access.models import ApiKey
from billstream.access.service import revoke_api_key
from billstream.core.clock import FakeClock
from billstream.core.errors import AuthenticationError, BillstreamError
from billstream.db.engine import make_engine
from billstream.db.migrate import upgrade
from billstream.tenants.service import scope_for
from tests.factories import make_api_key, make_tenant

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(new_database_url: Callable[[str], str]) -> Iterator[Engine]:
    engine = make_engine(new_database_url("postgresql"))
    upgrade(engine)
    yield engine
    engine.dispose()


def _revoke(session: Session, clock: FakeClock, caller_id: str, key_id: str) -> ApiKey:
    caller = session.get(ApiKey, caller_id)
    assert caller is not None
    scope = scope_for(session, caller.tenant_id, include_descendants=caller.include_descendants)
    return revoke_api_key(session, clock=clock, scope=scope, key_id=key_id, caller=caller)


def test_two_keys_revoking_each_other_at_once_leave_one(
    pg_engine: Engine, clock: FakeClock
) -> None:
    # given a tenant with two keys
    with Session(pg_engine) as setup:
        tenant = make_tenant(setup, clock)
        first = make_api_key(setup, clock, tenant).key.id
        second = make_api_key(setup, clock, tenant).key.id
        setup.commit()
    outcome: list[BaseException | ApiKey] = []

    def second_revokes_first() -> None:
        with Session(pg_engine) as session:
            try:
                outcome.append(_revoke(session, clock, second, first))
                session.commit()
            except BillstreamError as exc:
                outcome.append(exc)

    # when the first revokes the second and, before it commits, the second revokes the first
    with Session(pg_engine) as session:
        _revoke(session, clock, first, second)
        other = threading.Thread(target=second_revokes_first)
        other.start()
        time.sleep(0.5)
        waiting = other.is_alive()  # blocked on the first's lock
        session.commit()
    other.join(timeout=10)

    # then the second waited, and found itself revoked: the first key stays active
    assert waiting
    [result] = outcome
    assert isinstance(result, AuthenticationError)
    with Session(pg_engine) as check:
        active = check.scalars(select(ApiKey.id).where(ApiKey.revoked_at.is_(None))).all()
    assert active == [first]
