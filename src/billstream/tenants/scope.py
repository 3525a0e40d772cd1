"""The tenancy scope every query goes through (`repository.get_in_scope` reads one row
through it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from billstream.core.errors import NotFoundError

if TYPE_CHECKING:  # the scope filters the model it is given; it imports no database itself
    from sqlalchemy import ColumnElement


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
