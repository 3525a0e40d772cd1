"""The tenant a use case acts for, loaded once: who may be touched, the tree, the settings.

A use case gets one `TenantContext` from its edge (the API request, the CLI command, the
job) and passes it on, so no service asks the database again for the tenant's ancestors or
settings, and no service takes a scope and a tenant id side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from billstream.tenants.scope import TenantScope
from billstream.tenants.service import ancestor_chain, find_tenant, settings_of, tree_of
from billstream.tenants.settings import ResolvedSettings
from billstream.tenants.tree import TenantTree


@dataclass(frozen=True, slots=True)
class TenantContext:
    """The tenant a use case acts for (`tenant_id`, already in `scope`), its tree and settings.

    `tree` holds the tenant's ancestors and its whole subtree; `settings` are those in force
    for `tenant_id`, resolved down that chain (their `sources` unmasked: the context is for
    computing, not for showing a caller who set what).
    """

    tenant_id: str
    scope: TenantScope
    tree: TenantTree
    settings: ResolvedSettings

    @property
    def currency(self) -> str:
        return self.settings.currency

    @property
    def timezone(self) -> str:
        return self.settings.timezone

    @property
    def chain(self) -> tuple[str, ...]:
        """`tenant_id` and its ancestors, nearest first."""
        return self.tree.chain(self.tenant_id)

    def allows(self, tenant_id: str) -> bool:
        """Whether the caller may touch `tenant_id` (the context's scope)."""
        return self.scope.allows(tenant_id)

    def require(self, tenant_id: str, *, field: str = "tenant_id") -> str:
        """`tenant_id` if the caller may touch it; else "not found" on `field`."""
        return self.scope.require(tenant_id, field=field)


def load_context(
    session: Session, *, scope: TenantScope, tenant_id: str, field: str = "tenant_id"
) -> TenantContext:
    """The context of `tenant_id` for a caller with `scope`, by three queries.

    An id outside `scope` is "not found" on `field` before anything is read, so a caller
    cannot learn whether it exists.
    """
    scope.require(tenant_id, field=field)
    chain = ancestor_chain(session, tenant_id)
    return TenantContext(
        tenant_id=tenant_id, scope=scope, tree=tree_of(session, chain), settings=settings_of(chain)
    )


def operator_context(session: Session, tenant_ref: str) -> TenantContext:
    """The context of a tenant (by id or slug) for an operator: its whole subtree in scope."""
    tenant_id = find_tenant(session, tenant_ref).id
    chain = ancestor_chain(session, tenant_id)
    tree = tree_of(session, chain)
    ancestors = {t.id for t in chain[:-1]}
    scope = TenantScope(
        home=tenant_id, tenant_ids=frozenset(tree.parents) - ancestors, includes_descendants=True
    )
    return TenantContext(tenant_id=tenant_id, scope=scope, tree=tree, settings=settings_of(chain))
