"""The tenancy scope every query goes through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from billstream.core.errors import NotFoundError
from billstream.db.locks import locked

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class TenantScope:
    """The tenants a caller may see: its own (`home`) and, if granted, its descendants.

    Services filter every tenant-owned query with `scope.filter(Model)`, and check a single
    tenant id with `scope.require(tenant_id)`. An id outside the scope reads as "not found",
    so a caller cannot even learn that it exists.
    """

    home: str
    tenant_ids: frozenset[str]
    includes_descendants: bool = False

    def filter(self, model: Any) -> ColumnElement[bool]:
        column: Any = model.tenant_id if hasattr(model, "tenant_id") else model.id
        return column.in_(sorted(self.tenant_ids))  # type: ignore[no-any-return]

    def allows(self, tenant_id: str) -> bool:
        return tenant_id in self.tenant_ids

    def with_new_descendant(self, tenant_id: str) -> TenantScope:
        """This scope, grown by a tenant created below it after the scope was computed."""
        if not self.includes_descendants:
            raise ValueError("only a scope with descendants grows with new tenants")
        return TenantScope(self.home, self.tenant_ids | {tenant_id}, includes_descendants=True)

    def require(self, tenant_id: str, *, field: str = "tenant_id") -> str:
        if tenant_id not in self.tenant_ids:
            raise NotFoundError(f"tenant {tenant_id} not found", field=field)
        return tenant_id


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
