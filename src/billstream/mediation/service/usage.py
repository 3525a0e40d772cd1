"""Reading accepted usage and file arrivals."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.db.pagination import Page, paginate
from billstream.mediation.models import UsageFile, UsageRecord
from billstream.tenants.scope import TenantScope

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
    columns = [UsageRecord.__table__.c[name] for name in ACCEPTED_USAGE_SCHEMA]
    stmt = select(*columns).where(
        scope.filter(UsageRecord), UsageRecord.started_at >= start, UsageRecord.started_at < end
    )
    if account_id is not None:
        stmt = stmt.where(UsageRecord.account_id == account_id)
    stmt = stmt.order_by(UsageRecord.started_at, UsageRecord.record_key)
    # plain rows through the connection: the ORM's per-row work is not needed for columns
    rows = session.connection().execute(stmt).all()
    return pl.DataFrame(rows, schema=ACCEPTED_USAGE_SCHEMA, orient="row").lazy()


def list_files(
    session: Session, *, scope: TenantScope, cursor: str | None = None, limit: int = 50
) -> Page[UsageFile]:
    stmt = select(UsageFile).where(scope.filter(UsageFile))
    return paginate(session, stmt, UsageFile.id, cursor=cursor, limit=limit)
