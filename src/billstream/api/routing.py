"""The route class of every /v1 route: one transaction per request, auth, idempotency.

The edge owns the transaction: the request commits once if the handler answered below 400,
and rolls back otherwise. A POST with an `Idempotency-Key` header stores its response in the
same transaction, so a retry gets the first response and never a second effect; the same key
with another body is refused (422), and a key whose first request is still running or that
raced another is refused (409).

No text of a request may hold the NUL character (U+0000): PostgreSQL cannot store or compare
it, so a path, query, JSON or form value with one is refused here (422, naming the field)
before anything reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from billstream.access.service import authenticate
from billstream.api.models import IdempotencyRecord
from billstream.core.errors import AuthenticationError, ConflictError, ErrorCode, InvalidInputError
from billstream.core.ids import new_id

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
MAX_KEY_LENGTH = 255


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send an API key as `Authorization: Bearer <key>`")
    return token.strip()


async def _request_hash(request: Request) -> str:
    body = await request.body()
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


NUL = "\x00"


def _nul_fields(value: Any, path: str) -> Iterator[str]:
    """The dotted paths (`lines[2].reason`) of the texts in `value` holding a NUL."""
    if isinstance(value, str):
        if NUL in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nul_fields(key, path or "body")
            yield from _nul_fields(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_fields(item, f"{path}[{index}]")


async def _refuse_nul(request: Request) -> None:
    parameters = [*request.path_params.items(), *request.query_params.multi_items()]
    found = [name for name, value in parameters if NUL in str(value)]
    content_type = request.headers.get("content-type", "")
    if not found and content_type.startswith("application/json"):
        body = await request.body()
        if b"\\u0000" in body:
            try:
                found = list(_nul_fields(json.loads(body), ""))
            except ValueError:
                return  # not JSON: malformed_json, when the route reads it
    elif not found and content_type.startswith(("multipart/form-data", "application/x-www")):
        await request.body()  # kept: the Idempotency-Key's fingerprint reads it after the form
        form = await request.form()
        found = [k for k, v in form.multi_items() if isinstance(v, str) and NUL in v]
    if found:
        raise InvalidInputError("a text cannot hold the NUL character (U+0000)", field=found[0])


def _stored(session: Session, api_key_id: str, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
        )
    )


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise InvalidInputError(
            "this Idempotency-Key was used with another request; use a new key",
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
            field="Idempotency-Key",
        )
    return Response(
        record.response_body,
        status_code=record.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            runtime = request.app.state.runtime
            with runtime.session_factory() as session:
                try:
                    return await _run(request, session, handler, runtime.pepper)
                except BaseException:
                    await run_in_threadpool(session.rollback)
                    raise
                finally:
                    await request.close()  # a form read before the route (a replay skips it)

        return run


async def _run(request: Request, session: Session, handler: Handler, pepper: bytes) -> Response:
    token = _token(request)
    api_key, scope = await run_in_threadpool(authenticate, session, pepper=pepper, token=token)
    request.state.session, request.state.scope, request.state.api_key = session, scope, api_key
    await _refuse_nul(request)
    key = request.headers.get("idempotency-key") if request.method == "POST" else None
    request_hash = ""
    if key is not None:
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise InvalidInputError(
                "an Idempotency-Key is 1-255 characters", field="Idempotency-Key"
            )
        request_hash = await _request_hash(request)
        record = await run_in_threadpool(_stored, session, api_key.id, key)
        if record is not None:
            await run_in_threadpool(session.rollback)
            return _replay(record, request_hash)
    response = await handler(request)
    if response.status_code >= 400:
        await run_in_threadpool(session.rollback)
        return response
    if key is not None:
        session.add(
            IdempotencyRecord(
                id=new_id("idk"),
                api_key_id=api_key.id,
                key=key,
                request_hash=request_hash,
                status_code=response.status_code,
                response_body=bytes(response.body).decode(),
                created_at=request.app.state.runtime.clock.now(),
            )
        )
    try:
        await run_in_threadpool(session.commit)
    except IntegrityError:
        await run_in_threadpool(session.rollback)
        if key is None or await run_in_threadpool(_stored, session, api_key.id, key) is None:
            raise
        raise ConflictError(
            "another request with this Idempotency-Key ran at the same time; retry to get its "
            "response",
            code=ErrorCode.IDEMPOTENCY_KEY_IN_USE,
            field="Idempotency-Key",
        ) from None
    return response
