"""Recursive queries over a self-referencing table (`id`, `parent_id`): tenants, accounts."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

M = TypeVar("M")


def ancestors_and_self(session: Session, model: type[M], node_id: str) -> list[M]:
    """`node_id`'s ancestors and itself, root first, by one recursive query; [] if unknown."""
    table: Any = model
    up = (
        select(table.id, table.parent_id, literal(0).label("depth"))
        .where(table.id == node_id)
        .cte("up", recursive=True)
    )
    up = up.union_all(
        select(table.id, table.parent_id, (up.c.depth + 1).label("depth")).where(
            table.id == up.c.parent_id
        )
    )
    depth = {row.id: row.depth for row in session.execute(select(up.c.id, up.c.depth))}
    nodes = list(session.scalars(select(model).where(table.id.in_(list(depth)))))
    return sorted(nodes, key=lambda n: -depth[getattr(n, "id")])  # noqa: B009


def subtree_ids(session: Session, model: type[Any], node_id: str) -> list[str]:
    """`node_id` and all its descendants, by one recursive query; [] if unknown."""
    tree = select(model.id).where(model.id == node_id).cte("tree", recursive=True)
    tree = tree.union_all(select(model.id).where(model.parent_id == tree.c.id))
    return list(session.scalars(select(tree.c.id)))


def subtree_parents(session: Session, model: type[Any], node_id: str) -> list[tuple[str, Any]]:
    """`(id, parent_id)` of `node_id` and all its descendants, by one recursive query."""
    tree = select(model.id, model.parent_id).where(model.id == node_id).cte("tree", recursive=True)
    tree = tree.union_all(select(model.id, model.parent_id).where(model.parent_id == tree.c.id))
    return [(row.id, row.parent_id) for row in session.execute(select(tree.c.id, tree.c.parent_id))]
