"""The operator's way back in: the command line revokes any key, a tenant's last included,
and `apikey create` (database access) makes a working key for a tenant with none."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests.e2e.test_cli import billstream
from tests.e2e.test_cli import cli_runtime as cli_runtime  # the fixtures
from tests.e2e.test_cli import cli_session as cli_session
from tests.e2e.test_cli import data_dir as data_dir
from tests.e2e.test_cli import migrated as migrated
from tests.e2e.test_cli import northwind as northwind

from billstream.access.service import authenticate
from billstream.bootstrap import Runtime
from billstream.core.errors import AuthenticationError


def test_the_last_key_revoked_at_the_command_line_and_a_new_one_created(
    northwind: None, cli_runtime: Runtime, cli_session: Session
) -> None:
    # given northwind's only key
    token = billstream("apikey", "create", "--tenant", "northwind").stdout.strip()
    key_id = "_".join(token.split("_")[1:3])

    # when the operator revokes it at the command line
    revoked = billstream("apikey", "revoke", key_id)

    # then it is revoked (the REST API would have refused: it was the last key)
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stderr == f"API key {key_id} revoked.\n"
    with pytest.raises(AuthenticationError, match="revoked"):
        authenticate(cli_session, pepper=cli_runtime.pepper, token=token)
    cli_session.rollback()  # the read ends: SQLite lets the next command write
    # and `apikey create` is the way back in: its token authenticates
    created = billstream("apikey", "create", "--tenant", "northwind", "--descendants")
    assert created.exit_code == 0, created.output
    key, scope = authenticate(cli_session, pepper=cli_runtime.pepper, token=created.stdout.strip())
    assert key.revoked_at is None
    assert scope.includes_descendants


def test_revoking_an_unknown_key_fails_cleanly(migrated: None) -> None:
    # when
    result = billstream("apikey", "revoke", "key_nobody")

    # then one red line naming the argument, exit 1
    assert result.exit_code == 1
    assert result.stderr == "error: key: no API key with id 'key_nobody'\n"
