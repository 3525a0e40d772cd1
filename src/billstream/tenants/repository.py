"""Reading a tenant-owned row through the caller's scope, so another tenant's row reads as
not found."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.core.errors import NotFoundError
from billstream.db.locks import locked
from billstream.tenants.scope import TenantScope

Row = TypeVar("Row")


def get_in_scope(
    session: Session,
    model: type[Row],
    row_id: str,
    *,
    scope: TenantScope,
    label: str,
    field: str,
    tenant_id: str | None = None,
    tenant_named: str | None = None,
    lock: bool = False,
) -> Row:
    """The row of `model` with id `row_id`, if a tenant of `scope` owns it.

    Otherwise `NotFoundError` "{label} {row_id} not found", naming the request's `field`:
    an unknown id and another tenant's read alike, so a caller learns nothing of rows not
    its own. `tenant_id`: the row must also be that tenant's (an id in a body must be of
    the tenant the body names), "… not found in tenant T", or in `tenant_named` ("the
    number's tenant"). `lock`: the row is locked until the transaction ends, and read as
    committed then (`db.locks.locked`).
    """
    row: Any = None
    if tenant_id is None or scope.allows(tenant_id):
        if lock:
            where = [model.id == row_id, scope.filter(model)]  # type: ignore[attr-defined]
            row = session.scalar(locked(select(model).where(*where)))
        else:
            row = session.get(model, row_id)
    owner = None if row is None else getattr(row, "tenant_id", row.id)  # a tenant owns itself
    if owner is None or not scope.allows(owner) or tenant_id not in (None, owner):
        within = "" if tenant_id is None else f" in {tenant_named or f'tenant {tenant_id}'}"
        raise NotFoundError(f"{label} {row_id} not found{within}", field=field)
    return row  # type: ignore[no-any-return]
