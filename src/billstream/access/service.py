"""API-key use cases: create (the token is returned once), authenticate, list, revoke."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from billstream.access.errors import AccessErrorCode
from billstream.access.keys import hash_secret, make_token, new_secret, secret_matches, split_token
from billstream.access.models import ApiKey
from billstream.core.clock import Clock
from billstream.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from billstream.core.ids import new_id
from billstream.db.locks import locked
from billstream.db.pagination import Page, paginate
from billstream.tenants.models import Tenant
from billstream.tenants.repository import get_in_scope
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import operator_scope, scope_for


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    token: str


def create_api_key(
    session: Session,
    *,
    clock: Clock,
    pepper: bytes,
    tenant_id: str,
    name: str,
    include_descendants: bool = False,
    scope: TenantScope | None = None,
) -> CreatedKey:
    """A new key for `tenant_id`. An API caller (`scope`) cannot grant more than it holds."""
    if scope is not None:
        scope.require(tenant_id)
        if include_descendants and not scope.includes_descendants:
            raise InvalidInputError(
                "a key without descendants cannot grant them", field="include_descendants"
            )
    if session.get(Tenant, tenant_id) is None:
        raise NotFoundError(f"tenant {tenant_id} not found", field="tenant_id")
    if not name.strip():
        raise InvalidInputError("a key needs a name", field="name")
    secret = new_secret()
    key = ApiKey(
        id=new_id("key"),
        tenant_id=tenant_id,
        name=name.strip(),
        include_descendants=include_descendants,
        secret_hash=hash_secret(secret, pepper),
        created_at=clock.now(),
        revoked_at=None,
    )
    session.add(key)
    session.flush()
    return CreatedKey(key=key, token=make_token(key.id, secret))


def authenticate(session: Session, *, pepper: bytes, token: str) -> tuple[ApiKey, TenantScope]:
    parts = split_token(token)
    key = session.get(ApiKey, parts[0]) if parts else None
    if parts is None or key is None or not secret_matches(parts[1], key.secret_hash, pepper):
        raise AuthenticationError("unknown API key")
    if key.revoked_at is not None:
        raise AuthenticationError("this API key was revoked")
    return key, scope_for(session, key.tenant_id, include_descendants=key.include_descendants)


def list_api_keys(
    session: Session, *, scope: TenantScope, cursor: str | None = None, limit: int = 50
) -> Page[ApiKey]:
    stmt = select(ApiKey).where(scope.filter(ApiKey))
    return paginate(session, stmt, ApiKey.id, cursor=cursor, limit=limit)


def revoke_api_key(
    session: Session,
    *,
    clock: Clock,
    scope: TenantScope,
    key_id: str,
    caller: ApiKey | None = None,
) -> ApiKey:
    """Revoke `key_id` at once. Revoking a revoked key changes nothing.

    `caller` is the key of an API request; None is the operator at the command line, who may
    revoke any key of `scope` (with database access, `billstream apikey create` is always a
    way back in). A key (docs/api.md, "Who may revoke what"):

    - revokes only keys of its scope (another reads as not found, 404);
    - cannot revoke a key with descendants unless it has them itself (403, as it could not
      create one);
    - may revoke itself only while other active keys of its scope still reach every tenant
      it reaches (409 `api_key_last_access`): no request locks its tenants out of the API.

    The active keys of the scope are locked (in id order) before the rules are checked, so
    two keys revoking each other or themselves at once cannot both pass.
    """
    key = get_in_scope(session, ApiKey, key_id, scope=scope, label="API key", field="api_key_id")
    if key.revoked_at is not None:
        return key
    if caller is not None:
        active = _lock_active_keys(session, scope, caller.id)
        if caller.revoked_at is not None:
            raise AuthenticationError("this API key was revoked")
        _check_may_revoke(session, scope, caller, key, active)
    key.revoked_at = clock.now()
    session.flush()
    return key


def revoke_any_api_key(session: Session, *, clock: Clock, key_id: str) -> ApiKey:
    """Revoke `key_id` for the operator at the command line: any key, a tenant's last
    included (`billstream apikey create` makes a new one)."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFoundError(f"no API key with id {key_id!r}", field="key")
    scope = operator_scope(session, key.tenant_id)
    return revoke_api_key(session, clock=clock, scope=scope, key_id=key.id)


def _lock_active_keys(session: Session, scope: TenantScope, caller_id: str) -> list[ApiKey]:
    """The scope's active keys and the caller's own, locked in id order, as committed now."""
    return list(
        session.scalars(
            locked(
                select(ApiKey)
                .where(
                    scope.filter(ApiKey), or_(ApiKey.revoked_at.is_(None), ApiKey.id == caller_id)
                )
                .order_by(ApiKey.id)
            )
        )
    )


def _check_may_revoke(
    session: Session, scope: TenantScope, caller: ApiKey, key: ApiKey, active: list[ApiKey]
) -> None:
    if key.include_descendants and not caller.include_descendants:
        raise PermissionDeniedError(
            f"API key {key.id} reaches sub-tenants and this key does not: it cannot revoke it",
            field="api_key_id",
        )
    if key.id != caller.id:
        return  # the caller stays active, and it reaches everything the key reached
    others = [k for k in active if k.id != key.id and k.revoked_at is None]
    lost = sorted(scope.tenant_ids - _reached(session, scope, others))
    if lost:
        raise ConflictError(
            f"API key {key.id} is the last active key reaching tenant {lost[0]}; create "
            "another key for it first (with database access: billstream apikey create)",
            code=AccessErrorCode.LAST_ACCESS,
            field="api_key_id",
        )


def _reached(session: Session, scope: TenantScope, keys: list[ApiKey]) -> set[str]:
    """The tenants of `scope` some key of `keys` reaches (its own; its descendants too)."""
    own = {k.tenant_id for k in keys}
    wide = {k.tenant_id for k in keys if k.include_descendants}
    rows = session.execute(
        select(Tenant.id, Tenant.parent_id).where(Tenant.id.in_(sorted(scope.tenant_ids)))
    )
    parents: dict[str, str | None] = {tenant: parent for tenant, parent in rows}
    reached = set()
    for tenant in scope.tenant_ids:
        above = parents.get(tenant)
        while above is not None and above not in wide:
            above = parents.get(above)
        if tenant in own or above is not None:
            reached.add(tenant)
    return reached
