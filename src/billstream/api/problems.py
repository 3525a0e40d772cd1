"""Every error as RFC 9457 problem details, with a stable `code` and the offending `field`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from billstream.core.errors import BillstreamError, ErrorCode

log = logging.getLogger("billstream.api")

PROBLEM_TYPE = "https://billstream.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    500: "Internal error",
    503: "Service unavailable",
}
_STATUS_CODES = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.NOT_FOUND,
    409: ErrorCode.CONFLICT,
}


class InputError(BaseModel):
    """One reason a request failed schema validation."""

    field: str = Field(description="The offending input, dotted for nesting")
    reason: str
    type: str = Field(description="The kind of failure, e.g. `missing`, `string_too_long`")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem: every error the API answers, as `application/problem+json`."""

    type: str = Field(description="`https://billstream.dev/problems/` + `code`")
    title: str = Field(description="The status in words")
    status: int = Field(description="The HTTP status")
    detail: str = Field(description="What went wrong, for a person")
    code: str = Field(description="Stable error code, part of the API contract")
    field: str | None = Field(
        description="The offending input (`billing_address.country`, `Idempotency-Key`) or null"
    )
    instance: str = Field(description="The request's path")
    errors: list[InputError] | None = Field(
        default=None, description="Every schema-validation failure; only on those"
    )


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI `responses` entry: a problem body under `application/problem+json`."""
    return {"description": description, "model": ProblemDetails}


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ProblemDetails(
        type=PROBLEM_TYPE + code,
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        field=field,
        instance=request.url.path,
        errors=[InputError.model_validate(e) for e in errors] if errors else None,
    )
    return JSONResponse(
        body.model_dump(
            mode="json", exclude_none=False, exclude={"errors"} if not errors else None
        ),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _field(loc: tuple[Any, ...]) -> str:
    """``("body", "billing_address", "country")`` → ``billing_address.country``."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or (str(loc[0]) if loc else "body")


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BillstreamError)
    return problem(request, status=exc.status, code=exc.code, detail=exc.detail, field=exc.field)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(tuple(e["loc"])), "reason": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return problem(
            request,
            status=400,
            code=ErrorCode.MALFORMED_JSON,
            detail="the request body is not valid JSON",
            field="body",
        )
    first = errors[0]
    return problem(
        request,
        status=422,
        code=ErrorCode.INVALID_INPUT,
        detail=f"{first['field']}: {first['reason']}",
        field=first["field"],
        errors=errors,
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document has for the request's path (under any template).

    The router stops at the first route whose path matches, so its `Allow` names only that
    route's methods (GET of `/v1/accounts`, not also POST); the document knows them all.
    """
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    segments = request.url.path.split("/")
    methods: set[str] = set()
    for template, operations in paths.items():
        parts = template.split("/")
        if len(parts) == len(segments) and all(
            part == segment or (part.startswith("{") and segment)
            for part, segment in zip(parts, segments, strict=True)
        ):
            methods.update(method.upper() for method in operations)
    return sorted(methods)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(
        exc.status_code, "method_not_allowed" if exc.status_code == 405 else "http_error"
    )
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (methods := allowed_methods(request)):
        headers["Allow"] = ", ".join(methods)
    return problem(
        request, status=exc.status_code, code=code, detail=str(exc.detail), headers=headers
    )


async def on_integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.info("integrity error on %s: %s", request.url.path, exc)
    return problem(
        request,
        status=409,
        code=ErrorCode.CONFLICT,
        detail="the change clashes with stored data (a concurrent change?)",
    )


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s", request.url.path, exc_info=exc)
    return problem(
        request,
        status=500,
        code=ErrorCode.INTERNAL,
        detail="an unexpected error occurred; nothing was changed",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(BillstreamError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(Exception, on_unexpected)
