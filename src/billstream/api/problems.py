"""Every error as RFC 9457 problem details, with a stable `code` and the offending `field`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from billstream.core.errors import BillstreamError, ErrorCode

log = logging.getLogger("billstream.api")

PROBLEM_TYPE = "https://billstream.dev/problems/"
_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    500: "Internal error",
}
_STATUS_CODES = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.NOT_FOUND,
    409: ErrorCode.CONFLICT,
}


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "field": field,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


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


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(
        exc.status_code, "method_not_allowed" if exc.status_code == 405 else "http_error"
    )
    return problem(request, status=exc.status_code, code=code, detail=str(exc.detail))


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
