"""Migration 0022: usage record keys per tenant; its downgrade refuses keys it cannot hold."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, inspect, text

from billstream.db.engine import make_engine
from billstream.db.migrate import current_revision, downgrade, upgrade

INSERT = text(
    "INSERT INTO usage_records (root_tenant_id, record_key, tenant_id, account_id, usage_type,"
    " started_at, duration_s, quantity) VALUES ('ten_root', 'call-1', :tenant, 'acc_1',"
    " 'voice', '2026-01-10 10:00:00', 60, 0)"
)


@pytest.fixture
def engine(backend: str, new_database_url: Callable[[str], str]) -> Iterator[Engine]:
    engine = make_engine(new_database_url(backend))
    yield engine
    engine.dispose()


def primary_key(engine: Engine) -> list[str]:
    return list(inspect(engine).get_pk_constraint("usage_records")["constrained_columns"])


def test_two_brands_keep_one_key_each_and_the_downgrade_refuses_them(engine: Engine) -> None:
    # given the schema at 0022: two brands of one tree store the same call id
    upgrade(engine, "0022")
    assert primary_key(engine) == ["tenant_id", "record_key"]
    with engine.begin() as connection:
        connection.execute(INSERT, {"tenant": "ten_north"})
        connection.execute(INSERT, {"tenant": "ten_south"})

    # when migrated down, the old key (per tree) cannot hold both: refused, nothing changed
    with pytest.raises(RuntimeError, match="1 record keys are held by two tenants"):
        downgrade(engine, "0021")
    assert current_revision(engine) == "0022"
    assert primary_key(engine) == ["tenant_id", "record_key"]

    # and with one of them gone, it goes down and up again keeping the row
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM usage_records WHERE tenant_id = 'ten_south'"))
    downgrade(engine, "0021")
    assert primary_key(engine) == ["root_tenant_id", "record_key"]
    upgrade(engine, "0022")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT tenant_id FROM usage_records")).all() == [
            ("ten_north",)
        ]
