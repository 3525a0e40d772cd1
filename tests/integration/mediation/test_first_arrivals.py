"""The database holds a content's first arrival once per tenant, and a line's reject once;
migration 0021 mends arrivals doubled by the race of two imports at once, before it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from billstream.core.clock import FakeClock
from billstream.db.engine import make_engine, make_session_factory
from billstream.db.migrate import downgrade, upgrade
from billstream.mediation.models import UsageFile, UsageReject
from tests.conftest import START
from tests.factories import make_tenant

FILES = UsageFile.__table__
REJECTS = UsageReject.__table__


@pytest.fixture
def fresh_engine(backend: str, new_database_url: Callable[[str], str]) -> Iterator[Engine]:
    engine = make_engine(new_database_url(backend))
    yield engine
    engine.dispose()


def _tenant(engine: Engine) -> str:
    with make_session_factory(engine).begin() as session:
        return make_tenant(session, FakeClock(START), slug="acme", name="Acme").id


def _file(
    tenant_id: str, file_id: str, checksum: str, seconds: int, **counts: Any
) -> dict[str, Any]:
    return {
        "id": file_id, "tenant_id": tenant_id, "root_tenant_id": tenant_id, "name": "Master.csv",
        "checksum": checksum, "format": "asterisk-cdr-csv", "timezone": "UTC", "header": None,
        "duplicate_of": None, "received_at": START + timedelta(seconds=seconds), **counts,
    }  # fmt: skip


def _reject(tenant_id: str, file_id: str, line_no: int) -> dict[str, Any]:
    return {
        "id": f"rej-{file_id}-{line_no}", "tenant_id": tenant_id, "file_id": file_id,
        "line_no": line_no, "reason": "unknown_number", "detail": "", "raw": "x",
        "status": "open", "created_at": START, "reprocessed_at": None,
    }  # fmt: skip


def test_arrivals_doubled_before_are_mended_by_the_migration(fresh_engine: Engine) -> None:
    # given a database of revision 0020 where two imports at once both recorded a file as its
    # first arrival, each with the file's two rejects, beside another file
    upgrade(fresh_engine)
    tenant = _tenant(fresh_engine)
    downgrade(fresh_engine, "0020")
    counts = {"records_in": 3, "rejected": 2}
    with fresh_engine.begin() as conn:
        conn.execute(
            insert(FILES),
            [
                _file(tenant, "f1", "aa", 0, accepted=1, duplicates=0, **counts),
                _file(tenant, "f2", "aa", 0, accepted=0, duplicates=1, **counts),
                _file(tenant, "f3", "bb", 5, accepted=1, duplicates=0, **counts),
            ],
        )
        conn.execute(
            insert(REJECTS),
            [_reject(tenant, f, n) for f in ("f1", "f2", "f3") for n in (2, 3)],
        )

    # when migrated to the head
    upgrade(fresh_engine)

    # then the later one is a duplicate of the first, with no rejects of its own
    with fresh_engine.connect() as conn:
        files = {
            row.id: (row.duplicate_of, row.records_in, row.accepted, row.rejected, row.duplicates)
            for row in conn.execute(select(FILES))
        }
        rejects = sorted(
            tuple(r) for r in conn.execute(select(REJECTS.c.file_id, REJECTS.c.line_no))
        )
    assert files == {
        "f1": (None, 3, 1, 2, 0),
        "f2": ("f1", 3, 0, 0, 3),
        "f3": (None, 3, 1, 2, 0),
    }
    assert rejects == [("f1", 2), ("f1", 3), ("f3", 2), ("f3", 3)]


def test_a_second_first_arrival_or_reject_of_a_line_is_refused(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    tenant = _tenant(fresh_engine)
    counts = {"records_in": 1, "accepted": 0, "rejected": 1, "duplicates": 0}
    with fresh_engine.begin() as conn:
        conn.execute(insert(FILES), [_file(tenant, "f1", "aa", 0, **counts)])
        conn.execute(insert(REJECTS), [_reject(tenant, "f1", 1)])
        # a duplicate arrival of the content is fine
        conn.execute(
            insert(FILES), [{**_file(tenant, "f2", "aa", 1, **counts), "duplicate_of": "f1"}]
        )
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(insert(FILES), [_file(tenant, "f3", "aa", 2, **counts)])
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(insert(REJECTS), [{**_reject(tenant, "f1", 1), "id": "rej-again"}])
