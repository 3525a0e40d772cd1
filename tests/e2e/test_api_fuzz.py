"""Schemathesis over the whole OpenAPI document: no 5xx, and every answer as documented.

Every operation of the real app (ASGI, a migrated SQLite database of its own) is called with
generated requests, valid and invalid, as a key with descendants; every check runs (status
codes, content types, response schemas and headers, invalid input refused, auth enforced,
405 with `Allow`...). The database holds a company with a brand, accounts, numbers,
a catalogue, a subscription, usage, a rating run and an invoice, and path parameters are
filled with those ids half of the time, so routes are exercised past their 404.

Hypothesis is derandomised (a fixed seed per operation) and bounded (8 examples per
operation, plus schemathesis's coverage cases), so a run is repeatable and fits in the suite;
`BILLSTREAM_FUZZ_EXAMPLES` raises the bound for a longer hunt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy.orm import Session
from tests.conftest import PEPPER, START
from tests.e2e.conftest import Api
from tests.e2e.test_api_isolation import _company_a

from billstream.app import create_app
from billstream.bootstrap import Runtime
from billstream.core.clock import FakeClock
from billstream.db.engine import make_engine, make_session_factory
from billstream.db.migrate import upgrade
from billstream.settings import Settings

EXAMPLES = int(os.environ.get("BILLSTREAM_FUZZ_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def fuzz_runtime(
    new_database_url: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    """A migrated SQLite database of the fuzz run's own: its requests commit for real."""
    url = new_database_url("sqlite")
    engine = make_engine(url)
    upgrade(engine)
    runtime = Runtime(
        settings=Settings(data_dir=tmp_path_factory.mktemp("fuzz"), database_url=url),
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=FakeClock(START),
        pepper=PEPPER,
    )
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def seeded(fuzz_runtime: Runtime) -> dict[str, str]:
    """A company's data through the API; its key's token and the ids by parameter name."""
    app = create_app(fuzz_runtime)
    assert isinstance(fuzz_runtime.clock, FakeClock)
    with Session(fuzz_runtime.engine, expire_on_commit=False) as session, TestClient(app) as client:
        company = _company_a(Api(client, session, fuzz_runtime.clock))
    return {"token": company.caller.token, **company.refs}


class AppUnderTest:
    """The ASGI app the requests go to, built by a fixture once its database exists.

    Schemathesis binds the operations to an app when the module is collected, before any
    fixture runs; this forwards every call to the app the fixture sets.
    """

    app: FastAPI | None = None
    token: str | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.app is not None, "the `app` fixture sets the app under test"
        await self.app(scope, receive, send)


APP_UNDER_TEST = AppUnderTest()


@pytest.fixture(scope="module")
def app(fuzz_runtime: Runtime, seeded: dict[str, str]) -> Iterator[FastAPI]:
    APP_UNDER_TEST.app = create_app(fuzz_runtime)
    APP_UNDER_TEST.token = seeded["token"]
    yield APP_UNDER_TEST.app
    APP_UNDER_TEST.app = APP_UNDER_TEST.token = None


# Every check runs. A schema-valid request may still break a rule the JSON schema cannot say
# (an ISO code, a period that ends after it starts, an id outside the key's scope, a cursor
# this API did not issue, an Idempotency-Key reused with another body): those answer 422
# with a problem naming the field, so 422 joins the statuses a valid request may get.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
            }
        }
    }
)
# The document needs no database: an app without a runtime reads nothing until it starts.
schema = schemathesis.openapi.from_dict(create_app().openapi(), config=CONFIG)
schema.app = APP_UNDER_TEST


@schema.auth()
class SeededKey:
    """The seeded key with descendants, sent as schemathesis's own auth: its checks then know
    which requests carry it, and send some without it on purpose (expecting 401)."""

    def get(self, case: Any, ctx: Any) -> str | None:
        return APP_UNDER_TEST.token

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _fill_path_with_seeded_ids(case: Any, seeded: dict[str, str]) -> None:
    meta = case.meta
    path = meta.components.get(ParameterLocation.PATH) if meta is not None else None
    if path is not None and path.mode is not GenerationMode.POSITIVE:
        return
    for name in case.path_parameters or {}:
        if name in seeded:
            case.path_parameters[name] = seeded[name]


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(
    case: Any, data: st.DataObject, app: FastAPI, seeded: dict[str, str]
) -> None:
    if data.draw(st.booleans(), label="seeded ids in the path"):
        _fill_path_with_seeded_ids(case, seeded)
    case.call_and_validate()
