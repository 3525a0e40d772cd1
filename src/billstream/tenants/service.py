"""Tenant use cases: create, change, read, and the tree queries other domains rely on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.core.clock import Clock
from billstream.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from billstream.core.ids import new_id
from billstream.db import tree
from billstream.db.locks import lock_rows
from billstream.db.pagination import Page, paginate
from billstream.tenants.context import TenantContext
from billstream.tenants.errors import TenantErrorCode
from billstream.tenants.models import Tenant
from billstream.tenants.repository import get_in_scope
from billstream.tenants.scope import TenantScope
from billstream.tenants.settings import (
    ResolvedSettings,
    resolve_settings,
    settings_in_force_of_all,
)
from billstream.tenants.tree import TenantTree
from billstream.tenants.validation import CHECKS, check_color, check_slug

SETTING_FIELDS = (
    "currency",
    "timezone",
    "locale",
    "invoice_prefix",
    "invoice_format",
    "line_precision",
    "proration_basis",
    "brand_name",
    "brand_address",
    "brand_logo_url",
    "brand_primary_color",
    "brand_accent_color",
    "brand_footer",
)
MUTABLE_FIELDS = ("name", *SETTING_FIELDS)


def _checked(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in CHECKS:
        return CHECKS[name](value)
    if name.endswith("_color"):
        return check_color(value, field=name)
    if isinstance(value, str) and not value.strip() and name == "name":
        raise InvalidInputError("a name cannot be empty", field=name)
    limit = getattr(Tenant.__table__.c[name].type, "length", None)
    if isinstance(value, str) and limit is not None and len(value) > limit:
        raise InvalidInputError(f"at most {limit} characters", field=name)
    return value


def create_tenant(
    session: Session,
    *,
    clock: Clock,
    slug: str,
    name: str,
    parent_id: str | None = None,
    scope: TenantScope | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Tenant:
    """Create a tenant. With a `scope` (an API caller), only below a tenant in that scope."""
    values = {k: _checked(k, v) for k, v in (settings or {}).items() if k in SETTING_FIELDS}
    unknown = set(settings or {}) - set(SETTING_FIELDS)
    if unknown:
        raise InvalidInputError("unknown tenant setting", field=sorted(unknown)[0])
    name = _checked("name", name.strip()) or ""
    if not name:
        raise InvalidInputError("a name cannot be empty", field="name")
    if parent_id is None:
        if scope is not None:
            raise InvalidInputError(
                "an API key can create tenants only below its own", field="parent_id"
            )
        if not values.get("currency"):
            raise InvalidInputError(
                "a top-level tenant must set its currency",
                code=TenantErrorCode.CURRENCY_REQUIRED,
                field="currency",
            )
    else:
        if scope is not None:
            scope.require(parent_id, field="parent_id")
            if not scope.includes_descendants:
                raise PermissionDeniedError(
                    "only a key scoped to descendants can create sub-tenants", field="parent_id"
                )
        if session.get(Tenant, parent_id) is None:
            raise NotFoundError(f"tenant {parent_id} not found", field="parent_id")
    check_slug(slug)
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise ConflictError(
            f"slug {slug!r} is taken", code=TenantErrorCode.SLUG_TAKEN, field="slug"
        )
    now = clock.now()
    tenant = Tenant(
        id=new_id("ten"),
        parent_id=parent_id,
        slug=slug,
        name=name,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(tenant)
    session.flush()
    return tenant


def update_tenant(
    session: Session,
    *,
    clock: Clock,
    scope: TenantScope,
    tenant_id: str,
    changes: Mapping[str, Any],
) -> Tenant:
    """Apply `changes` (a setting set to `None` goes back to inheriting from the parent)."""
    tenant = get_tenant(session, scope=scope, tenant_id=tenant_id)
    for key, value in changes.items():
        if key not in MUTABLE_FIELDS:
            raise InvalidInputError("this field cannot be changed", field=key)
        if key == "name" and (value is None or not str(value).strip()):
            raise InvalidInputError("a name cannot be empty", field="name")
        if key == "currency" and value is None and tenant.parent_id is None:
            raise InvalidInputError(
                "a top-level tenant must set its currency",
                code=TenantErrorCode.CURRENCY_REQUIRED,
                field="currency",
            )
        setattr(tenant, key, _checked(key, value))
    tenant.updated_at = clock.now()
    session.flush()
    return tenant


def get_tenant(session: Session, *, scope: TenantScope, tenant_id: str) -> Tenant:
    return get_in_scope(session, Tenant, tenant_id, scope=scope, label="tenant", field="tenant_id")


def lock_tenant(session: Session, tenant_id: str) -> None:
    """Lock the tenant's row until the transaction ends: the first lock a use case takes
    (`db.locks`). Changes to the shape of one tenant's data take turns under it: account
    hierarchy moves (two moves could together build a loop neither sees alone), catalogue
    applies (two could both see a price as new and both add it)."""
    lock_rows(session, Tenant, [tenant_id])


def find_tenant(session: Session, ref: str) -> Tenant:
    """A tenant by id or slug, for operators (the CLI), unscoped."""
    tenant = session.scalar(select(Tenant).where((Tenant.id == ref) | (Tenant.slug == ref)))
    if tenant is None:
        raise NotFoundError(f"no tenant with id or slug {ref!r}", field="tenant")
    return tenant


def list_tenants(
    session: Session,
    *,
    scope: TenantScope,
    cursor: str | None = None,
    limit: int = 50,
    parent_id: str | None = None,
) -> Page[Tenant]:
    stmt = select(Tenant).where(scope.filter(Tenant))
    if parent_id is not None:
        stmt = stmt.where(Tenant.parent_id == parent_id)
    return paginate(session, stmt, Tenant.id, cursor=cursor, limit=limit)


def all_tenants(session: Session) -> Sequence[Tenant]:
    """Every tenant, for operators (the CLI); never reachable from the API."""
    return list(session.scalars(select(Tenant).order_by(Tenant.slug)))


def subtree_ids(session: Session, tenant_id: str) -> frozenset[str]:
    """`tenant_id` and all its descendants."""
    return frozenset(tree.subtree_ids(session, Tenant, tenant_id))


def ancestor_chain(session: Session, tenant_id: str) -> list[Tenant]:
    """`tenant_id`'s ancestors and itself, root first."""
    chain = tree.ancestors_and_self(session, Tenant, tenant_id)
    if not chain:
        raise NotFoundError(f"tenant {tenant_id} not found", field="tenant_id")
    return chain


def tenant_tree(session: Session, tenant_id: str) -> TenantTree:
    """The tree `tenant_id` works in: its ancestors and its whole subtree, by two queries."""
    return tree_of(session, ancestor_chain(session, tenant_id))


def tree_of(session: Session, chain: Sequence[Tenant]) -> TenantTree:
    """The tree of the last tenant of `chain` (root first): the chain and that tenant's subtree."""
    below = tree.subtree_parents(session, Tenant, chain[-1].id)
    return TenantTree.of([*((t.id, t.parent_id) for t in chain), *below])


def settings_of(chain: Sequence[Tenant]) -> ResolvedSettings:
    """The settings in force for the last tenant of `chain` (root first), by no query."""
    return resolve_settings([(t.id, t.overrides()) for t in chain])


def resolved_settings(
    session: Session, tenant_id: str, *, scope: TenantScope | None = None
) -> ResolvedSettings:
    """The settings in force for `tenant_id`. Sources outside `scope` read ``"inherited"``."""
    resolved = settings_of(ancestor_chain(session, tenant_id))
    if scope is not None:
        for key, source in resolved.sources.items():
            if source != "default" and not scope.allows(source):
                resolved.sources[key] = "inherited"
    return resolved


def settings_of_tenants(tenants: Sequence[Tenant]) -> dict[str, ResolvedSettings]:
    """The settings in force for each of `tenants`, rows already loaded that hold every
    ancestor of each (a subtree with its root's `ancestor_chain`, or all tenants)."""
    tenants_tree = TenantTree.of((t.id, t.parent_id) for t in tenants)
    return settings_in_force_of_all(tenants_tree, {t.id: t.overrides() for t in tenants})


def scope_for(session: Session, tenant_id: str, *, include_descendants: bool) -> TenantScope:
    ids = subtree_ids(session, tenant_id) if include_descendants else frozenset({tenant_id})
    return TenantScope(home=tenant_id, tenant_ids=ids, includes_descendants=include_descendants)


def operator_scope(session: Session, tenant_id: str) -> TenantScope:
    """The whole subtree of `tenant_id`: what an operator at the command line may touch."""
    return scope_for(session, tenant_id, include_descendants=True)


def every_tenant_scope(session: Session) -> TenantScope:
    """Every tenant: what an operator at the command line reaches without naming one."""
    ids = frozenset(t.id for t in all_tenants(session))
    return TenantScope(home="", tenant_ids=ids, includes_descendants=True)


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
    scope = TenantScope(
        home=tenant_id, tenant_ids=tree.subtree(tenant_id), includes_descendants=True
    )
    return TenantContext(tenant_id=tenant_id, scope=scope, tree=tree, settings=settings_of(chain))
