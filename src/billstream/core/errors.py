"""The error tree. Every error billstream raises on purpose is a `BillstreamError`.

    BillstreamError                 code, detail, field; `status` is the HTTP status
    ├── InvalidInputError   422     a value is malformed or breaks a rule of its own
    ├── NotFoundError       404     an id that does not exist (or is not yours to see)
    ├── ConflictError       409     valid on its own, but clashes with what is stored
    ├── AuthenticationError 401     no credentials, or unknown/revoked ones
    └── PermissionDeniedError 403   known credentials, not allowed to do this

`code` is a stable string from an `ErrorCode` StrEnum (here or in a domain's `errors.py`);
codes are part of the API contract. `field` names the offending input, dotted for nesting
(`billing_address.country`, `numbers[3]`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorCode(StrEnum):
    """Codes shared by every domain. Domains add their own StrEnums."""

    INVALID_INPUT = "invalid_input"
    MALFORMED_JSON = "malformed_json"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNAUTHENTICATED = "unauthenticated"
    PERMISSION_DENIED = "permission_denied"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    INVALID_CURSOR = "invalid_cursor"
    INTERNAL = "internal_error"
    DATABASE_UNREACHABLE = "database_unreachable"
    MIGRATIONS_PENDING = "migrations_pending"


class BillstreamError(Exception):
    """Base of every deliberate billstream error."""

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = ErrorCode.INVALID_INPUT

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = str(code or self.default_code)
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.detail}" if self.field else self.detail


class InvalidInputError(BillstreamError):
    status = 422
    default_code = ErrorCode.INVALID_INPUT


class NotFoundError(BillstreamError):
    status = 404
    default_code = ErrorCode.NOT_FOUND


class ConflictError(BillstreamError):
    status = 409
    default_code = ErrorCode.CONFLICT


class AuthenticationError(BillstreamError):
    status = 401
    default_code = ErrorCode.UNAUTHENTICATED


class PermissionDeniedError(BillstreamError):
    status = 403
    default_code = ErrorCode.PERMISSION_DENIED
