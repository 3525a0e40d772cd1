"""The shape of the tenant tree a use case works in: who is whose parent.

Loaded once per use case (`tenants.service.tenant_tree`) and read by the pure resolver of
inherited configuration, so nothing walks up the tree in the database again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TenantTree:
    """Parents of the tenants a use case may meet: a tenant's ancestors and its subtree.

    >>> tree = TenantTree.of([("t_root", None), ("t_uk", "t_root"), ("t_uk_biz", "t_uk")])
    >>> tree.chain("t_uk_biz")
    ('t_uk_biz', 't_uk', 't_root')
    >>> tree.depth("t_uk_biz", "t_root"), tree.depth("t_uk", "t_uk_biz")
    (2, None)
    >>> sorted(tree.subtree("t_uk"))
    ['t_uk', 't_uk_biz']
    """

    parents: Mapping[str, str | None]

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str | None]]) -> TenantTree:
        """A tree from `(tenant_id, parent_id)` pairs."""
        return cls(dict(pairs))

    @classmethod
    def of_chain(cls, chain: Iterable[str]) -> TenantTree:
        """The one-branch tree of `chain`, root first (each tenant the parent of the next).

        >>> TenantTree.of_chain(["t_root", "t_uk"]).chain("t_uk")
        ('t_uk', 't_root')
        """
        ids = list(chain)
        return cls.of(zip(ids, [None, *ids[:-1]], strict=True))

    def __contains__(self, tenant_id: object) -> bool:
        return tenant_id in self.parents

    def chain(self, tenant_id: str) -> tuple[str, ...]:
        """`tenant_id` and its ancestors, nearest first: itself, its parent, …, the root."""
        if tenant_id not in self.parents:
            raise KeyError(f"tenant {tenant_id} is not in this tree")
        chain: list[str] = []
        node: str | None = tenant_id
        while node is not None:
            if node in chain:
                raise ValueError(f"the tenant tree has a cycle through {node}")
            chain.append(node)
            node = self.parents.get(node)
        return tuple(chain)

    def depth(self, tenant_id: str, owner: str) -> int | None:
        """How far up `tenant_id`'s chain `owner` is (0: itself); None when not on it."""
        chain = self.chain(tenant_id)
        return chain.index(owner) if owner in chain else None

    def subtree(self, tenant_id: str) -> frozenset[str]:
        """`tenant_id` and every tenant of this tree below it."""
        return frozenset(t for t in self.parents if tenant_id in self.chain(t))
