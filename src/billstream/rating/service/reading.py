"""Reading rating runs and rated usage, scoped to the caller's tenants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.db.pagination import Page, paginate
from billstream.rating.models import RatedUsage, RatingRun
from billstream.tenants.repository import get_in_scope
from billstream.tenants.scope import TenantScope

__all__ = ["get_run", "list_rated_usage"]


def get_run(session: Session, *, scope: TenantScope, run_id: str) -> RatingRun:
    return get_in_scope(session, RatingRun, run_id, scope=scope, label="rating run", field="run_id")


def list_rated_usage(
    session: Session,
    *,
    scope: TenantScope,
    cursor: str | None = None,
    limit: int = 50,
    run_id: str | None = None,
    account_id: str | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
    current: bool = True,
) -> Page[RatedUsage]:
    """Rated rows, ordered by id; `current` keeps only those no later run superseded."""
    stmt = select(RatedUsage).where(scope.filter(RatedUsage))
    if run_id is not None:
        stmt = stmt.where(RatedUsage.run_id == run_id)
    if account_id is not None:
        stmt = stmt.where(RatedUsage.account_id == account_id)
    if started_from is not None:
        stmt = stmt.where(RatedUsage.started_at >= started_from)
    if started_before is not None:
        stmt = stmt.where(RatedUsage.started_at < started_before)
    if current:
        stmt = stmt.where(RatedUsage.superseded_by.is_(None))
    return paginate(session, stmt, RatedUsage.id, cursor=cursor, limit=limit)
