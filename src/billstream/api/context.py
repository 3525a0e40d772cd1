"""What every route handler gets: the request's session, the clock, and the caller's scope.

A handler acting for one tenant gets its `TenantContext` from `Ctx.tenant`, the one place
the API builds one: the id named in the path, query or body (default: the key's own
tenant), checked against the key's scope so an id outside it is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from billstream.access.models import ApiKey
from billstream.core.clock import Clock
from billstream.tenants.context import TenantContext
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import load_context

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer bsk_…`")


@dataclass(frozen=True)
class Ctx:
    session: Session
    clock: Clock
    scope: TenantScope
    api_key: ApiKey
    pepper: bytes

    def tenant(self, tenant_id: str | None = None, *, field: str = "tenant_id") -> TenantContext:
        """The context of `tenant_id` (None: the key's tenant); outside the scope, a 404."""
        return load_context(
            self.session, scope=self.scope, tenant_id=tenant_id or self.scope.home, field=field
        )


def _context(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Ctx:
    # The route class has already opened the session and authenticated the caller; the
    # bearer dependency is here so the OpenAPI document shows the security scheme.
    state = request.state
    runtime = request.app.state.runtime
    return Ctx(
        session=state.session,
        clock=runtime.clock,
        scope=state.scope,
        api_key=state.api_key,
        pepper=runtime.pepper,
    )


Context = Annotated[Ctx, Depends(_context)]


@dataclass(frozen=True)
class PageParams:
    cursor: str | None
    limit: int


def _page_params(
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


Paging = Annotated[PageParams, Depends(_page_params)]
