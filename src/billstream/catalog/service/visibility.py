"""Which catalogue rows a tenant can use: its own and its ancestors', the nearest winning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session, aliased

from billstream.tenants.inheritance import Version, in_force
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import ancestor_chain
from billstream.tenants.tree import TenantTree

M = TypeVar("M")


def chain_ids(session: Session, tenant_id: str) -> list[str]:
    """`tenant_id`'s ancestors and itself, root first: whose catalogues it can use."""
    return [t.id for t in ancestor_chain(session, tenant_id)]


def reachable(session: Session, scope: TenantScope) -> frozenset[str]:
    """Tenants whose catalogue rows a caller may read: its scope and the home's ancestors."""
    return scope.tenant_ids | frozenset(chain_ids(session, scope.home))


def owner_shown(scope: TenantScope, tenant_id: str) -> str | None:
    """An owner's id as a caller may see it: an ancestor outside its scope reads as null."""
    return tenant_id if scope.allows(tenant_id) else None


def nearest_by_code(session: Session, model: type[M], chain: Sequence[str]) -> dict[str, M]:
    """Rows of `model` owned along `chain` (root first) by code; on a clash the nearest owner
    wins: inherited configuration keyed by code, without dates (`tenants.inheritance`)."""
    table: Any = model
    rows = session.scalars(select(model).where(table.tenant_id.in_(list(chain))))
    versions = [
        Version(getattr(row, "tenant_id"), getattr(row, "code"), row)  # noqa: B009
        for row in rows
    ]
    found = in_force(TenantTree.of_chain(chain), versions, chain[-1]) if chain else {}
    return {code: resolved.value for code, resolved in found.items()}


def nearest_only(model: Any, chain: Sequence[str]) -> ColumnElement[bool]:
    """SQL filter: rows owned along `chain` that no nearer owner shadows by code: the rule of
    `nearest_by_code` (the resolver's, without dates) said in SQL, so lists page in the
    database."""
    clauses: list[ColumnElement[bool]] = []
    for i, owner in enumerate(chain):
        nearer = list(chain[i + 1 :])
        clause: ColumnElement[bool] = model.tenant_id == owner
        if nearer:
            other = aliased(model)
            shadowed = exists().where(other.code == model.code, other.tenant_id.in_(nearer))
            clause = and_(clause, ~shadowed)
        clauses.append(clause)
    return or_(*clauses) if clauses else false()
