"""The tenant a use case acts for, loaded once: who may be touched, the tree, the settings.

A use case gets one `TenantContext` from its edge (the API request, the CLI command, the
job) and passes it on, so no service asks the database again for the tenant's ancestors or
settings, and no service takes a scope and a tenant id side by side. It is plain data: the
use cases `service.load_context` and `service.operator_context` load it.
"""

from __future__ import annotations

from dataclasses import dataclass

from billstream.tenants.scope import TenantScope
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

    def shown(self, source: str) -> str:
        """Who set a value, as the caller may see it: a tenant outside `scope` (an ancestor
        of a brand's key) reads ``"inherited"``, as in `service.resolved_settings`."""
        return source if self.scope.allows(source) else "inherited"

    def require(self, tenant_id: str, *, field: str = "tenant_id") -> str:
        """`tenant_id` if the caller may touch it; else "not found" on `field`."""
        return self.scope.require(tenant_id, field=field)
