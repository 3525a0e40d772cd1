"""API-key use cases: create (the token is returned once), authenticate, list, revoke."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.access.keys import hash_secret, make_token, new_secret, secret_matches, split_token
from billstream.access.models import ApiKey
from billstream.core.clock import Clock
from billstream.core.errors import AuthenticationError, InvalidInputError, NotFoundError
from billstream.core.ids import new_id
from billstream.db.pagination import Page, paginate
from billstream.tenants.models import Tenant
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import scope_for


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


def revoke_api_key(session: Session, *, clock: Clock, scope: TenantScope, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or not scope.allows(key.tenant_id):
        raise NotFoundError(f"API key {key_id} not found", field="api_key_id")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        session.flush()
    return key
