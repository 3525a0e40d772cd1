"""The operator revokes any key at the command line, a tenant's last one included."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from billstream.access.service import revoke_any_api_key
from billstream.core.clock import FakeClock
from billstream.core.errors import NotFoundError
from tests.factories import make_api_key, make_tenant


def test_the_operator_revokes_a_tenants_last_key(session: Session, clock: FakeClock) -> None:
    # given a tenant with one key
    created = make_api_key(session, clock, make_tenant(session, clock))

    # when the operator revokes it
    revoked = revoke_any_api_key(session, clock=clock, key_id=created.key.id)

    # then it is revoked now
    assert revoked.revoked_at == clock.now()


def test_an_unknown_key_is_blamed_on_the_key(session: Session, clock: FakeClock) -> None:
    # when the operator revokes a key that does not exist, then the error names it
    with pytest.raises(NotFoundError, match="no API key with id 'key_nope'") as raised:
        revoke_any_api_key(session, clock=clock, key_id="key_nope")
    assert raised.value.field == "key"
