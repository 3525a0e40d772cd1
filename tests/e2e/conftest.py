"""The `api` fixture: the real app over HTTP (a TestClient), with tenants and keys to call as.

The app and the test share one database transaction (see tests/conftest.py): what a request
commits, the test's session sees, and everything is rolled back after the test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_api_key, make_tenant

from billstream.api.problems import PROBLEM_TYPE
from billstream.app import create_app
from billstream.bootstrap import Runtime
from billstream.core.clock import FakeClock
from billstream.migrations.models import metadata
from billstream.tenants.models import Tenant

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "field", "instance"}


@dataclass
class Caller:
    """A tenant and an API key of it: who a request is made as."""

    tenant_id: str
    key_id: str
    token: str
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"Authorization": f"Bearer {self.token}"}


class Api:
    """HTTP calls as a `Caller`, plus the few database reads the tests check effects with."""

    def __init__(self, client: TestClient, session: Session, clock: FakeClock) -> None:
        self.client = client
        self.session = session
        self.clock = clock

    def tenant(
        self, *, parent: str | None = None, descendants: bool = True, **settings: Any
    ) -> Caller:
        """A new tenant (below `parent`, else top-level) and a key of it."""
        parent_row = self.session.get(Tenant, parent) if parent else None
        tenant = make_tenant(self.session, self.clock, parent=parent_row, **settings)
        key = make_api_key(self.session, self.clock, tenant, include_descendants=descendants)
        self.session.commit()
        return Caller(tenant_id=tenant.id, key_id=key.key.id, token=key.token)

    def key(self, tenant_id: str, *, descendants: bool = False) -> Caller:
        """Another key of an existing tenant."""
        tenant = self.session.get(Tenant, tenant_id)
        assert tenant is not None
        key = make_api_key(self.session, self.clock, tenant, include_descendants=descendants)
        self.session.commit()
        return Caller(tenant_id=tenant_id, key_id=key.key.id, token=key.token)

    def call(
        self,
        caller: Caller | None,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> Response:
        sent = {**(caller.headers if caller else {}), **(headers or {})}
        return self.client.request(
            method, path, json=json, params=params, headers=sent, content=content
        )

    def get(self, caller: Caller, path: str, **params: Any) -> Response:
        return self.call(caller, "GET", path, params=params)

    def post(
        self, caller: Caller, path: str, body: Any, *, idempotency_key: str | None = None
    ) -> Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.call(caller, "POST", path, json=body, headers=headers)

    def patch(self, caller: Caller, path: str, body: Any) -> Response:
        return self.call(caller, "PATCH", path, json=body)

    def delete(self, caller: Caller, path: str) -> Response:
        return self.call(caller, "DELETE", path)

    def created(self, caller: Caller, path: str, body: Any) -> Any:
        """POST that must answer 201; its JSON body."""
        response = self.post(caller, path, body)
        assert response.status_code == 201, response.text
        return response.json()

    def ok(self, caller: Caller, path: str, **params: Any) -> Any:
        """GET that must answer 200; its JSON body."""
        response = self.get(caller, path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def count(self, table: str) -> int:
        """Rows in `table`, read through the shared transaction."""
        return int(self.session.scalar(select(func.count()).select_from(metadata.tables[table])))

    def counts(self) -> dict[str, int]:
        """Rows in every table: a write that should not happen shows up here."""
        return {name: self.count(name) for name in sorted(metadata.tables)}


@pytest.fixture
def api(runtime: Runtime, session: Session, clock: FakeClock) -> Iterator[Api]:
    with TestClient(create_app(runtime)) as client:
        yield Api(client, session, clock)


def assert_problem(
    response: Response, *, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """`response` is an RFC 9457 problem with this status, code and field; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_FIELDS, body
    assert body["type"] == PROBLEM_TYPE + code
    assert body["status"] == status
    assert body["code"] == code
    assert body["field"] == field
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body
