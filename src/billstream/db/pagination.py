"""Cursor pagination: every list is ordered by id and resumes after the last id it sent."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from billstream.core.errors import ErrorCode, InvalidInputError
from billstream.core.ids import is_id

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The id a cursor from `encode_cursor` holds; anything else is refused."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_id = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_id = ""
    # The decoder skips characters outside its alphabet, so garbage can decode to something:
    # only a cursor that is exactly the encoding of an id is one this API issued.
    if not is_id(last_id) or encode_cursor(last_id) != cursor:
        raise InvalidInputError(
            "cursor is not one this API issued", code=ErrorCode.INVALID_CURSOR, field="cursor"
        )
    return last_id


def paginate(
    session: Session, stmt: Select[T], id_column: Any, *, cursor: str | None, limit: int
) -> Page[T]:
    """Run `stmt` ordered by `id_column`, `limit` rows after `cursor`."""
    if limit < 1:
        raise InvalidInputError("limit must be at least 1", field="limit")
    if cursor:
        stmt = stmt.where(id_column > decode_cursor(cursor))
    rows = list(session.scalars(stmt.order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(str(getattr(rows[-1], "id"))) if more and rows else None  # noqa: B009
    return Page(items=rows, next_cursor=next_cursor)
