"""Liveness and readiness, without an API key: for load balancers and orchestrators.

`/healthz` answers 200 while the process serves requests. `/readyz` answers 200 when the
database answers and its schema is at the migrations' head, else 503 with a problem saying
which (`database_unreachable` or `migrations_pending`).
"""

from __future__ import annotations

import logging
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from billstream.api.problems import problem, problem_response
from billstream.core.errors import ErrorCode
from billstream.db import migrate

log = logging.getLogger("billstream.api")
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    revision: str


@cache
def _head_revision() -> str | None:
    return migrate.head_revision()


@router.get("/healthz", summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The database answers and is migrated to head",
    response_model=Readiness,
    responses={503: problem_response("The database is unreachable or not at head")},
)
def readyz(request: Request) -> Readiness | JSONResponse:
    runtime = request.app.state.runtime
    head = _head_revision()
    try:
        # Through a session, as a request would get one: ready means a request can run.
        with runtime.session_factory() as session:
            current = migrate.revision_of(session.connection())
    except SQLAlchemyError as exc:
        log.warning("readiness: database unreachable: %s", exc)
        return problem(
            request,
            status=503,
            code=ErrorCode.DATABASE_UNREACHABLE,
            detail="the database does not answer",
        )
    if current != head or head is None:
        return problem(
            request,
            status=503,
            code=ErrorCode.MIGRATIONS_PENDING,
            detail=f"the database is at revision {current or 'none'}, not {head}; "
            "run `billstream db upgrade`",
        )
    return Readiness(status="ready", revision=head)
