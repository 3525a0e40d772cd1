"""Reading accepted usage and file arrivals."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from billstream.db.pagination import Page, paginate
from billstream.mediation.models import UsageFile, UsageRecord
from billstream.tenants.repository import get_in_scope
from billstream.tenants.scope import TenantScope

STREAMED_ROWS = 10_000  # rows fetched from the database at a time
ACCEPTED_USAGE_SCHEMA = pl.Schema(
    {
        "record_key": pl.String(),
        "tenant_id": pl.String(),
        "account_id": pl.String(),
        "subscription_id": pl.String(),
        "usage_type": pl.String(),
        "started_at": pl.Datetime("us", "UTC"),
        "duration_s": pl.Int64(),
        "quantity": pl.Int64(),
        "calling": pl.String(),
        "called": pl.String(),
        "carrier": pl.String(),
        "file_id": pl.String(),
        "line_no": pl.Int64(),
    }
)


def accepted_usage(
    session: Session,
    *,
    scope: TenantScope,
    start: datetime,
    end: datetime,
    account_id: str | None = None,
) -> pl.LazyFrame:
    """The accepted records of the scope with started_at in ``[start, end)``, as a frame of
    ACCEPTED_USAGE_SCHEMA (the contract with rating), ordered by started_at then key."""
    stmt = _accepted(scope, start, end, account_id).order_by(
        UsageRecord.started_at, UsageRecord.record_key
    )
    # plain rows through the connection: the ORM's per-row work is not needed for columns
    rows = session.connection().execute(stmt).all()
    return pl.DataFrame(rows, schema=ACCEPTED_USAGE_SCHEMA, orient="row").lazy()


def accepted_usage_batches(
    session: Session,
    *,
    scope: TenantScope,
    start: datetime,
    end: datetime,
    account_id: str | None = None,
    size: int,
) -> Iterator[pl.LazyFrame]:
    """`accepted_usage` in batches of whole accounts, each of about `size` records (an
    account with more is a batch of its own), each ordered by started_at then key; at least
    one batch (empty when there are no records).

    One pass over the records ordered by account, streamed from the database (a server-side
    cursor on PostgreSQL), so memory holds a batch whatever the size of the period; a query
    per batch would scan the period's index again for each."""
    stmt = _accepted(scope, start, end, account_id).order_by(
        UsageRecord.account_id, UsageRecord.started_at, UsageRecord.record_key
    )
    result = session.connection().execute(stmt, execution_options={"stream_results": True})
    held: list[Any] = []
    sent = False
    for part in result.partitions(min(size, STREAMED_ROWS)):
        held.extend(part)
        if len(held) < size or held[0].account_id == held[-1].account_id:
            continue  # not a batch yet, or one account so far
        cut = len(held)  # before the last account's first row: it may go on
        while cut and held[cut - 1].account_id == held[-1].account_id:
            cut -= 1
        if cut:
            yield _ordered(held[:cut])
            held, sent = held[cut:], True
    if held or not sent:
        yield _ordered(held)


def _accepted(
    scope: TenantScope, start: datetime, end: datetime, account_id: str | None
) -> Select[Any]:
    columns = [UsageRecord.__table__.c[name] for name in ACCEPTED_USAGE_SCHEMA]
    stmt = select(*columns).where(
        scope.filter(UsageRecord), UsageRecord.started_at >= start, UsageRecord.started_at < end
    )
    if account_id is not None:
        stmt = stmt.where(UsageRecord.account_id == account_id)
    return stmt


def _ordered(rows: list[Any]) -> pl.LazyFrame:
    frame = pl.DataFrame(rows, schema=ACCEPTED_USAGE_SCHEMA, orient="row")
    return frame.sort("started_at", "record_key").lazy()


def list_files(
    session: Session, *, scope: TenantScope, cursor: str | None = None, limit: int = 50
) -> Page[UsageFile]:
    stmt = select(UsageFile).where(scope.filter(UsageFile))
    return paginate(session, stmt, UsageFile.id, cursor=cursor, limit=limit)


def get_file(session: Session, *, scope: TenantScope, file_id: str) -> UsageFile:
    """A file arrival (a CDR file or a batch of events) with its counts."""
    return get_in_scope(
        session, UsageFile, file_id, scope=scope, label="usage file", field="file_id"
    )


def file_names(
    session: Session, *, scope: TenantScope, file_ids: Collection[str]
) -> dict[str, str]:
    """The name of each file arrival of `file_ids` in `scope`."""
    stmt = select(UsageFile.id, UsageFile.name).where(
        scope.filter(UsageFile), UsageFile.id.in_(file_ids)
    )
    return {file_id: name for file_id, name in session.execute(stmt)}
