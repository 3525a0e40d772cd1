"""`insert_rows`: a failed bulk write raises SQLAlchemy's error on each backend (COPY goes to
the driver directly on PostgreSQL) and leaves none of its rows."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from billstream.billing.models import InvoiceSequence
from billstream.core.clock import FakeClock
from billstream.db.bulk import insert_rows
from tests.factories import make_tenant

SEQUENCES: Table = InvoiceSequence.__table__  # type: ignore[assignment]
COLUMNS = ("tenant_id", "series", "next_value")


def _count(session: Session, tenant_id: str) -> int:
    where = InvoiceSequence.tenant_id == tenant_id
    return session.scalar(select(func.count()).select_from(InvoiceSequence).where(where)) or 0


def test_a_key_taken_raises_integrity_error_and_writes_none_of_the_rows(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock)
    insert_rows(session, SEQUENCES, COLUMNS, [(tenant.id, "2026", 1)])
    # when a write holds a new row and one whose key is taken
    with pytest.raises(IntegrityError), session.begin_nested():
        insert_rows(session, SEQUENCES, COLUMNS, [(tenant.id, "2027", 1), (tenant.id, "2026", 5)])
    # then the error is SQLAlchemy's, and the new row is not there either
    assert _count(session, tenant.id) == 1


def test_a_value_too_long_raises_data_error_on_postgresql_and_is_kept_whole_on_sqlite(
    session: Session, clock: FakeClock, backend: str
) -> None:
    tenant = make_tenant(session, clock)
    row = (tenant.id, "x" * 17, 1)  # series: 16 characters
    if backend == "sqlite":  # SQLite does not enforce a VARCHAR's length
        insert_rows(session, SEQUENCES, COLUMNS, [row])
        assert _count(session, tenant.id) == 1
        return
    # when a value is longer than its column, PostgreSQL's COPY refuses it as SQLAlchemy's
    # DataError (a bill run recovers from a DBAPIError per payer), and nothing is written
    with pytest.raises(DataError, match="too long"), session.begin_nested():
        insert_rows(session, SEQUENCES, COLUMNS, [row])
    assert _count(session, tenant.id) == 0
